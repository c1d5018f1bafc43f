import * as SqlClient from "@effect/sql/SqlClient"
import { Deferred, Effect, Redacted, Runtime, Schedule, type Scope } from "effect"
import pg from "pg"
import { Ids } from "../Ids.js"
import { DatabaseUrl } from "./Client.js"
import { orUnavailable } from "./Errors.js"

/**
 * What a listener hears: a payload sent on its channel, or `Resync` after the
 * listening connection was lost and re-established (anything sent meanwhile was missed,
 * so caches must drop what they hold and workers must look again).
 */
export type Notification =
  | {
    readonly _tag: "Message"
    readonly channel: string
    readonly payload: string
    /** Sent by this process: a listener that already acted on its own change may skip it. */
    readonly local: boolean
  }
  | { readonly _tag: "Resync" }

/**
 * Called on the listening connection's event, synchronously and in arrival order: it must
 * not block. Effectful work belongs to a fiber the handler wakes (`Wake`) or forks.
 */
export type NotificationHandler = (event: Notification) => void

/** Payloads we send are `<origin uuid>:<payload>`; anything else came from elsewhere. */
const ORIGIN = /^([0-9a-f-]{36}):/

const RESYNC: Notification = { _tag: "Resync" }

const asError = (cause: unknown) => cause instanceof Error ? cause : new Error(String(cause))

/**
 * Cross-replica signalling over PostgreSQL LISTEN/NOTIFY. One dedicated connection per
 * process listens on every channel anyone registered for and reconnects with backoff
 * (@effect/sql's own listener silently stops after a dropped connection, which would leave
 * stale caches). A notification is handed straight to the handlers of its channel: no
 * stream, queue or fiber per listener, so a NOTIFY costs its listeners a function call.
 */
export class Notifications extends Effect.Service<Notifications>()("Notifications", {
  scoped: Effect.gen(function*() {
    const url = yield* DatabaseUrl
    const sql = yield* SqlClient.SqlClient
    const ids = yield* Ids
    const runtime = yield* Effect.runtime<never>()
    const handlers = new Map<string, Set<NotificationHandler>>()
    const origin = yield* ids.uuid
    // A pg client runs one query at a time (it warns now and will refuse in its next
    // major): every statement on the listening connection holds this single permit.
    const oneAtATime = yield* Effect.makeSemaphore(1)
    let client: pg.Client | undefined

    /** LISTEN on `names` in one round trip, after whatever this connection is still running. */
    const listen = (target: pg.Client, names: () => ReadonlyArray<string>) =>
      oneAtATime.withPermits(1)(Effect.suspend(() => {
        const statements = names().map((channel) => `LISTEN ${pg.escapeIdentifier(channel)}`)
        return statements.length === 0
          ? Effect.void
          : Effect.tryPromise({ try: () => target.query(statements.join("; ")), catch: asError })
      }))

    /** One handler's failure is logged and does not keep the others from hearing the event. */
    const call = (handler: NotificationHandler, event: Notification) => {
      try {
        handler(event)
      } catch (error) {
        Runtime.runFork(runtime)(Effect.logError("notification handler failed", asError(error).message))
      }
    }

    const deliver = (message: pg.Notification) => {
      const listeners = handlers.get(message.channel)
      if (message.payload === undefined || listeners === undefined || listeners.size === 0) return
      const sender = ORIGIN.exec(message.payload)
      const event: Notification = {
        _tag: "Message",
        channel: message.channel,
        payload: sender === null ? message.payload : message.payload.slice(sender[0].length),
        local: sender?.[1] === origin
      }
      for (const handler of [...listeners]) call(handler, event)
    }

    const resyncAll = () => {
      const everyone = new Set<NotificationHandler>()
      for (const listeners of handlers.values()) for (const handler of listeners) everyone.add(handler)
      for (const handler of everyone) call(handler, RESYNC)
    }

    /** One connection's lifetime: connect, LISTEN on every channel, then wait until it breaks. */
    const connectOnce = Effect.scoped(Effect.gen(function*() {
      const lost = yield* Deferred.make<never, Error>()
      const connection = yield* Effect.acquireRelease(
        Effect.sync(() => {
          const created = new pg.Client({ connectionString: Redacted.value(url), keepAlive: true })
          created.on("error", (error) => Deferred.unsafeDone(lost, Effect.fail(error)))
          created.on("end", () => Deferred.unsafeDone(lost, Effect.fail(new Error("listen connection closed"))))
          created.on("notification", deliver)
          return created
        }),
        (closing) =>
          Effect.sync(() => {
            if (client === closing) client = undefined
            closing.removeAllListeners()
            // A late error from a connection being closed must not become an uncaught 'error' event.
            closing.on("error", () => {})
            closing.end().catch(() => {})
          })
      )
      yield* Effect.tryPromise({ try: () => connection.connect(), catch: asError })
      // Published first so a listener arriving from now on LISTENs by itself.
      client = connection
      yield* listen(connection, () => [...handlers.keys()])
      // Whatever was sent while no connection listened is lost: everyone starts over.
      yield* Effect.sync(resyncAll)
      return yield* Deferred.await(lost)
    }))

    yield* connectOnce.pipe(
      Effect.tapError((error) => Effect.logWarning("LISTEN connection lost, reconnecting", error.message)),
      Effect.retry(Schedule.exponential("100 millis").pipe(Schedule.union(Schedule.spaced("5 seconds")))),
      Effect.forkScoped
    )

    /**
     * Calls `handler` with every message on `channel` and every `Resync`, until the caller's
     * scope closes. Returns once the channel is LISTENed on (when connected; otherwise the
     * next connection LISTENs on it and sends a `Resync`).
     */
    const on = (channel: string, handler: NotificationHandler): Effect.Effect<void, never, Scope.Scope> =>
      Effect.gen(function*() {
        let listeners = handlers.get(channel)
        const fresh = listeners === undefined
        if (listeners === undefined) handlers.set(channel, listeners = new Set())
        const registered = listeners
        registered.add(handler)
        yield* Effect.addFinalizer(() => Effect.sync(() => registered.delete(handler)))
        // A failure here means the connection broke; the reconnect LISTENs on every channel.
        if (fresh && client !== undefined) yield* Effect.ignore(listen(client, () => [channel]))
      })

    return {
      /** Whether notifications are being received right now (caches are coherent). */
      isListening: Effect.sync(() => client !== undefined),
      on,
      /** Sent when the surrounding transaction (if any) commits, like any NOTIFY. */
      notify: (channel: string, payload: string) =>
        orUnavailable(sql`select pg_notify(${channel}, ${`${origin}:${payload}`})`).pipe(Effect.asVoid)
    } as const
  }),
  dependencies: [Ids.Default]
}) {}
