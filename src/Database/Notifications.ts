import { SqlClient } from "@effect/sql"
import { Deferred, Effect, PubSub, Redacted, Schedule, Stream } from "effect"
import pg from "pg"
import { Ids } from "../Ids.js"
import { DatabaseUrl } from "./Client.js"
import { orUnavailable } from "./Errors.js"

/**
 * What a subscriber hears: a payload sent on its channel, or `Resync` after the
 * listening connection was lost and re-established (anything sent meanwhile was missed,
 * so caches must drop what they hold).
 */
export type Notification =
  | {
    readonly _tag: "Message"
    readonly channel: string
    readonly payload: string
    /** Sent by this process: a subscriber that already acted on its own change may skip it. */
    readonly local: boolean
  }
  | { readonly _tag: "Resync" }

/** Payloads we send are `<origin uuid>:<payload>`; anything else came from elsewhere. */
const ORIGIN = /^([0-9a-f-]{36}):/

const asError = (cause: unknown) => cause instanceof Error ? cause : new Error(String(cause))

/**
 * Cross-replica signalling over PostgreSQL LISTEN/NOTIFY. One dedicated connection per
 * process listens on every subscribed channel and reconnects with backoff; @effect/sql's
 * own listener silently stops after a dropped connection, which would leave stale caches.
 */
export class Notifications extends Effect.Service<Notifications>()("Notifications", {
  scoped: Effect.gen(function*() {
    const url = yield* DatabaseUrl
    const sql = yield* SqlClient.SqlClient
    const ids = yield* Ids
    const hub = yield* PubSub.unbounded<Notification>()
    const channels = new Set<string>()
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

    const deliver = (message: pg.Notification) => {
      if (message.payload === undefined) return
      const sender = ORIGIN.exec(message.payload)
      hub.unsafeOffer({
        _tag: "Message",
        channel: message.channel,
        payload: sender === null ? message.payload : message.payload.slice(sender[0].length),
        local: sender?.[1] === origin
      })
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
      // Published first so a subscriber arriving from now on LISTENs by itself.
      client = connection
      yield* listen(connection, () => [...channels])
      yield* PubSub.publish(hub, { _tag: "Resync" })
      return yield* Deferred.await(lost)
    }))

    yield* connectOnce.pipe(
      Effect.tapError((error) => Effect.logWarning("LISTEN connection lost, reconnecting", error.message)),
      Effect.retry(Schedule.exponential("100 millis").pipe(Schedule.union(Schedule.spaced("5 seconds")))),
      Effect.forkScoped
    )

    return {
      /** Whether notifications are being received right now (caches are coherent). */
      isListening: Effect.sync(() => client !== undefined),
      /** Messages on `channel`, plus every `Resync`. */
      subscribe: (channel: string): Stream.Stream<Notification> =>
        Stream.unwrapScoped(Effect.gen(function*() {
          const subscription = yield* PubSub.subscribe(hub)
          if (!channels.has(channel)) {
            channels.add(channel)
            // A failure here means the connection broke; the reconnect LISTENs on every channel.
            if (client !== undefined) yield* Effect.ignore(listen(client, () => [channel]))
          }
          return Stream.fromQueue(subscription).pipe(
            Stream.filter((event) => event._tag === "Resync" || event.channel === channel)
          )
        })),
      /** Sent when the surrounding transaction (if any) commits, like any NOTIFY. */
      notify: (channel: string, payload: string) =>
        orUnavailable(sql`select pg_notify(${channel}, ${`${origin}:${payload}`})`).pipe(Effect.asVoid)
    } as const
  }),
  dependencies: [Ids.Default]
}) {}
