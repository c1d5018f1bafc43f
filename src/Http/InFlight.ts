import { Effect } from "effect"

/** Probes must answer while busy (a shed probe would restart a healthy replica); media sockets are long-lived. */
export const exemptFromShedding = (url: string) => url.startsWith("/health/") || url.startsWith("/media-stream")

/** How many requests this process is serving now (one replica's count; each sheds on its own). */
export const makeInFlight = () => {
  const state = { count: 0 }
  return {
    get count() {
      return state.count
    },
    counted: <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.acquireUseRelease(
        Effect.sync(() => state.count++),
        () => effect,
        () => Effect.sync(() => state.count--)
      )
  }
}
