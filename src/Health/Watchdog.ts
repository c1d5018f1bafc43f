import { Clock, Effect, Schedule } from "effect"

const HEARTBEAT_INTERVAL = "1 second"
export const STALE_AFTER_MS = 5_000

/**
 * Liveness: a fiber records a heartbeat every second; if the runtime stops running it
 * (starved scheduler, a dead heartbeat fiber) the age grows past the threshold and the
 * probe answers 503 so the orchestrator restarts the process instead of routing to it.
 */
export class Watchdog extends Effect.Service<Watchdog>()("Watchdog", {
  scoped: Effect.gen(function*() {
    let lastBeat = yield* Clock.currentTimeMillis
    yield* Clock.currentTimeMillis.pipe(
      Effect.map((now) => {
        lastBeat = now
      }),
      Effect.repeat(Schedule.spaced(HEARTBEAT_INTERVAL)),
      Effect.forkScoped
    )
    return {
      heartbeatAgeMs: Effect.map(Clock.currentTimeMillis, (now) => Math.max(0, now - lastBeat))
    } as const
  })
}) {}
