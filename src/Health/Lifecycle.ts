import { Effect } from "effect"

/** Set when shutdown begins: readiness turns 503 so load balancers stop sending traffic. */
export class Lifecycle extends Effect.Service<Lifecycle>()("Lifecycle", {
  sync: () => {
    let draining = false
    return {
      isDraining: Effect.sync(() => draining),
      startDraining: Effect.sync(() => {
        draining = true
      })
    } as const
  }
}) {}
