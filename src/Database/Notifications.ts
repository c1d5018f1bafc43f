import { SqlClient } from "@effect/sql"
import { Effect, PubSub, Redacted, Schedule, Stream } from "effect"
import { randomUUID } from "node:crypto"
import pg from "pg"
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

/**
 * Cross-replica signalling over PostgreSQL LISTEN/NOTIFY. One dedicated connection per
 * process listens on every subscribed channel and reconnects with backoff; @effect/sql's
 * own listener silently stops after a dropped connection, which would leave stale caches.
 */
export class Notifications extends Effect.Service<Notifications>()("Notifications", {
  scoped: Effect.gen(function*() {
    const url = yield* DatabaseUrl
    const sql = yield* SqlClient.SqlClient
    const hub = yield* PubSub.unbounded<Notification>()
    const channels = new Set<string>()
    const origin = randomUUID()
    let client: pg.Client | undefined

    const listenOn = (target: pg.Client, channel: string) =>
      Effect.tryPromise(() => target.query(`LISTEN ${pg.escapeIdentifier(channel)}`))

    /** One connection's lifetime: connect, LISTEN, then wait until it breaks. */
    const connectOnce = Effect.async<never, Error>((resume) => {
      const connection = new pg.Client({ connectionString: Redacted.value(url), keepAlive: true })
      let settled = false
      const close = () => {
        if (client === connection) client = undefined
        connection.removeAllListeners()
        // A late error from a connection being closed must not become an uncaught 'error' event.
        connection.on("error", () => {})
        connection.end().catch(() => {})
      }
      const fail = (error: Error) => {
        if (settled) return
        settled = true
        close()
        resume(Effect.fail(error))
      }
      connection.on("error", fail)
      connection.on("end", () => fail(new Error("listen connection closed")))
      connection.on("notification", (message) => {
        if (message.payload !== undefined) {
          const sender = ORIGIN.exec(message.payload)
          hub.unsafeOffer({
            _tag: "Message",
            channel: message.channel,
            payload: sender === null ? message.payload : message.payload.slice(sender[0].length),
            local: sender?.[1] === origin
          })
        }
      })
      connection.connect()
        .then(() => {
          // Published first so a subscriber arriving from now on LISTENs by itself.
          client = connection
          return Promise.all([...channels].map((channel) => connection.query(`LISTEN ${pg.escapeIdentifier(channel)}`)))
        })
        .then(() => hub.unsafeOffer({ _tag: "Resync" }))
        .catch(fail)
      return Effect.sync(() => {
        settled = true
        close()
      })
    })

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
            if (client !== undefined) yield* Effect.ignore(listenOn(client, channel))
          }
          return Stream.fromQueue(subscription).pipe(
            Stream.filter((event) => event._tag === "Resync" || event.channel === channel)
          )
        })),
      /** Sent when the surrounding transaction (if any) commits, like any NOTIFY. */
      notify: (channel: string, payload: string) =>
        orUnavailable(sql`select pg_notify(${channel}, ${`${origin}:${payload}`})`).pipe(Effect.asVoid)
    } as const
  })
}) {}
