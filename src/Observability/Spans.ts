import { Context, DefaultServices, Effect, type Fiber, FiberRef, Option, Tracer } from "effect"

/**
 * A span around `self` when tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT set, src/Telemetry.ts),
 * and nothing otherwise. With tracing off `Effect.withSpan` still makes a no-op span and
 * provides it as the parent (two fiber-ref copies); on a path every request takes that is
 * waste (bench/RESULTS.md, "REST pass 3"). No stack is captured either way.
 */
export const spanned = (name: string) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  // One step (the fiber ref read as plain code), not a flatMap of FiberRef.get (three).
  Effect.withFiberRuntime<A, E, R>((fiber) =>
    fiber.getFiberRef(FiberRef.currentTracerEnabled) ? Effect.withSpan(self, name, { captureStackTrace: false }) : self)

/** The tracer that exports nothing (Effect's default): its spans are only read by their children. */
const nativeTracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)

/** Whether spans made on this fiber reach an exporter (tracing on and not Effect's native tracer). */
export const exportsSpans = (fiber: Fiber.RuntimeFiber<unknown, unknown>) =>
  fiber.getFiberRef(FiberRef.currentTracerEnabled) && fiber.currentTracer !== nativeTracer

/**
 * `Effect.withParentSpan(self, span)` when tracing is on, and `self` otherwise: with tracing off
 * no span is made under it (the parent is read by nothing), and the provide is a `FiberRef.locally`
 * of the context (an acquire/use/release, 17 Effect operations). For a call's end (Media/Call.ts).
 */
export const withParentSpanWhenTraced = <A, E, R>(self: Effect.Effect<A, E, R>, span: Tracer.AnySpan): Effect.Effect<A, E, R> =>
  Effect.withFiberRuntime<A, E, R>((fiber) => fiber.getFiberRef(FiberRef.currentTracerEnabled) ? Effect.withParentSpan(self, span) : self)

/**
 * `Effect.annotateCurrentSpan` as plain code, for a caller already holding its fiber: the same
 * span (the nearest that propagates), no Effect, and no NoSuchElementException made and
 * dropped when there is none (with tracing off there never is).
 */
export const annotateCurrentSpanOf = (fiber: Fiber.RuntimeFiber<unknown, unknown>, key: string, value: unknown) => {
  const span = propagatedSpanOf(fiber)
  if (Option.isSome(span)) span.value.attribute(key, value)
}

/** The nearest span that propagates (what `Effect.currentPropagatedSpan` finds), as plain code. */
export const propagatedSpanOf = (fiber: Fiber.RuntimeFiber<unknown, unknown>): Option.Option<Tracer.Span> => {
  let span = Context.getOption(fiber.currentContext, Tracer.ParentSpan)
  while (Option.isSome(span) && span.value._tag === "Span" && Context.get(span.value.context, Tracer.DisablePropagation)) {
    span = span.value.parent
  }
  return Option.isSome(span) && span.value._tag === "Span" ? Option.some(span.value) : Option.none()
}

/**
 * `Effect.option(Effect.currentPropagatedSpan)` without the `NoSuchElementException` (an Error,
 * stack captured) made and dropped on every call when tracing is off and there is no span.
 */
export const currentPropagatedSpanOption: Effect.Effect<Option.Option<Tracer.Span>> = Effect.withFiberRuntime((fiber) =>
  Effect.succeed(propagatedSpanOf(fiber))
)

/** `Effect.annotateCurrentSpan(key, value)`, likewise without the exception when there is no span. */
export const annotateCurrentSpan = (key: string, value: unknown): Effect.Effect<void> =>
  Effect.withFiberRuntime((fiber) => {
    annotateCurrentSpanOf(fiber, key, value)
    return Effect.void
  })

/**
 * Whether the layer being built exports spans (`exportsSpans` of the building fiber). Tracing is
 * fixed when the app's layers are built (src/Telemetry.ts), so a service can read this once and
 * choose its hot methods' shape with `spannedIf` instead of checking on every call.
 */
export const spansExported: Effect.Effect<boolean> = Effect.withFiberRuntime((fiber) => Effect.succeed(exportsSpans(fiber)))

/**
 * `method` itself when `exported` is false (no span, no check per call: what production runs
 * without an exporter), or each call of it in a span named `name` (no stack captured). Chosen
 * once, when the service's layer is built (`spansExported`): one body either way.
 */
export const spannedIf = <Args extends ReadonlyArray<unknown>, A, E, R>(
  exported: boolean,
  name: string,
  method: (...args: Args) => Effect.Effect<A, E, R>
): (...args: Args) => Effect.Effect<A, E, R> =>
  exported ? (...args: Args) => Effect.withSpan(method(...args), name, { captureStackTrace: false }) : method
