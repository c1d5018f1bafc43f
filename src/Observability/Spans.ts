import { Effect, FiberRef } from "effect"

/**
 * A span around `self` when tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT set, src/Telemetry.ts),
 * and nothing otherwise. With tracing off `Effect.withSpan` still makes a no-op span and
 * provides it as the parent (two fiber-ref copies); on a path every request takes that is
 * waste (bench/RESULTS.md, "REST pass 3"). No stack is captured either way.
 */
export const spanned = (name: string) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(FiberRef.get(FiberRef.currentTracerEnabled), (enabled) =>
    enabled ? Effect.withSpan(self, name, { captureStackTrace: false }) : self)
