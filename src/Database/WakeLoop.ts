import { Duration, Effect, Queue, Stream } from "effect"
import { Migrations } from "./Migrations.js"
import { Notifications } from "./Notifications.js"

/**
 * A replica's background worker over a table of due rows: once the schema is migrated, runs
 * `pass` (which drains what is due), then sleeps until a NOTIFY on `channel` from a commit
 * that added work, or `pollIntervalMs` (retries coming due, leases of a replica that died).
 * A failed pass is logged and the loop goes on. Forked in the caller's scope.
 */
export const runOnWake = <A, E, R>(options: {
  readonly channel: string
  readonly pollIntervalMs: number
  readonly pass: Effect.Effect<A, E, R>
  readonly failure: string
}) =>
  Effect.gen(function*() {
    const notifications = yield* Notifications
    const migrations = yield* Migrations
    const wake = yield* Queue.sliding<void>(1)
    yield* notifications.subscribe(options.channel).pipe(
      Stream.runForEach(() => Queue.offer(wake, undefined)),
      Effect.forkScoped
    )
    const idle = Effect.race(Queue.take(wake), Effect.sleep(Duration.millis(options.pollIntervalMs)))
    yield* migrations.awaitApplied.pipe(
      Effect.zipRight(Effect.forever(
        options.pass.pipe(
          Effect.catchAllCause((cause) => Effect.logWarning(options.failure, cause)),
          Effect.zipRight(idle)
        )
      )),
      Effect.forkScoped
    )
  })
