import { Context, Tracer } from "effect"

/** Names the route on the request's span (`http.route`), as HttpApi's router does, for a request answered in front of it. */
export const nameRoute = (context: Context.Context<never>, route: string) => {
  const span = Context.getOption(context, Tracer.ParentSpan)
  if (span._tag === "Some" && span.value._tag === "Span") span.value.attribute("http.route", route)
}
