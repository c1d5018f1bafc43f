import { Clock, Context, Effect, type Fiber, FiberRef, type MetricLabel, Option, type Tracer } from "effect"
import { exportsSpans, propagatedSpanOf } from "../Observability/Spans.js"

/**
 * What a webhook's answer reads from the fiber it runs on, once: plain code reads these instead
 * of yielding the Clock, the span and the metric labels step by step.
 */
export interface WebhookRun {
  /** Spans are exported: every step runs as its Effect, spanned, so the trace keeps its shape. */
  readonly traced: boolean
  readonly now: () => number
  /** The nearest span that propagates: the TwiML's traceparent (none with tracing off). */
  readonly span: Option.Option<Tracer.Span>
  readonly metricLabels: ReadonlyArray<MetricLabel.MetricLabel>
}

const runOf = (fiber: Fiber.RuntimeFiber<unknown, unknown>, traced: boolean): WebhookRun => {
  const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
  return {
    traced,
    now: () => clock.unsafeCurrentTimeMillis(),
    span: propagatedSpanOf(fiber),
    metricLabels: fiber.getFiberRef(FiberRef.currentMetricLabels)
  }
}

/**
 * `body` on this fiber's run, inside a span named `spanName` when spans are exported. With no
 * exporter there is no span: it would be read by nothing, and each costs a context copy.
 */
export const onRun = <A, E, R>(spanName: string, body: (run: WebhookRun) => Effect.Effect<A, E, R>) =>
  Effect.withFiberRuntime<A, E, R>((fiber) =>
    exportsSpans(fiber)
      ? Effect.withSpan(
        Effect.withFiberRuntime<A, E, R>((inSpan) => body(runOf(inSpan, true))),
        spanName,
        { captureStackTrace: false }
      )
      : body(runOf(fiber, false)))

/**
 * `next(known)` when a cache had the value (plain code, no Effect step), else `next` of what
 * `load` finds: how one answer handles both a warm cache and a miss.
 */
export const knownOr = <A, B, E1, R1, E2, R2>(
  known: A | undefined,
  load: () => Effect.Effect<A, E1, R1>,
  next: (value: A) => Effect.Effect<B, E2, R2>
): Effect.Effect<B, E1 | E2, R1 | R2> => known === undefined ? Effect.flatMap(load(), next) : next(known)
