import { Duration, Effect } from "effect"
import { Migrations } from "./Migrations.js"
import { Notifications } from "./Notifications.js"
import { makeWake } from "./Wake.js"

/**
 * A replica's background worker over a table of due rows: once the schema is migrated, runs
 * `pass` (which drains what is due), then sleeps until woken by a NOTIFY on `channel` from a
 * commit that added work, a reconnect of the listening connection (anything may have been
 * missed), or a tick every `pollIntervalMs` (retries coming due, leases of a replica that
 * died, a lost notification). Wake-ups coalesce: a burst of notifications runs one pass, one
 * arriving during a pass runs exactly one more. A failed pass is logged and the loop goes on.
 * Forked in the caller's scope.
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
    const wake = makeWake()
    yield* notifications.on(options.channel, wake.signal)
    yield* Effect.sleep(Duration.millis(options.pollIntervalMs)).pipe(
      Effect.zipRight(Effect.sync(wake.signal)),
      Effect.forever,
      Effect.forkScoped
    )
    yield* migrations.awaitApplied.pipe(
      Effect.zipRight(Effect.forever(
        options.pass.pipe(
          Effect.catchAllCause((cause) => Effect.logWarning(options.failure, cause)),
          Effect.zipRight(wake.await)
        )
      )),
      Effect.forkScoped
    )
  })
