import { Effect, Queue, Schedule, Schema } from "effect"
import { Ids } from "../Ids.js"
import { Migrations } from "../Database/Migrations.js"
import { Notifications } from "../Database/Notifications.js"
import { makeWake } from "../Database/Wake.js"
import { LiveLogsConfig } from "./Config.js"
import { frameOf, type LogEvent } from "./Events.js"
import { LiveLogsRepo } from "./Repo.js"

/** One connected `/api/v1/logs` socket; `send` must not block (it closes a slow socket itself). */
export interface Subscriber {
  readonly send: (frame: string) => void
}

const EVENTS = "live_logs"
const PRESENCE = "live_logs_presence"

const Envelope = Schema.parseJson(Schema.Struct({ t: Schema.String, f: Schema.String }))
const decodeEnvelope = Schema.decodeUnknownOption(Envelope)

/**
 * The live log stream: the call path hands events to `publish` (a set lookup, then a
 * bounded queue: never a wait, a full queue drops and counts), one fiber per replica
 * delivers them to its own subscribers and, when another replica has subscribers of that
 * tenant, sends them there through `pg_notify`. Replicas tell each other whom they serve
 * through `live_log_clients` rows and a presence NOTIFY, so events of tenants nobody
 * watches never leave the call.
 */
export class LiveLogs extends Effect.Service<LiveLogs>()("LiveLogs", {
  scoped: Effect.gen(function*() {
    const config = yield* LiveLogsConfig
    const repo = yield* LiveLogsRepo
    const notifications = yield* Notifications
    const migrations = yield* Migrations
    const replicaId = yield* (yield* Ids).uuid
    const local = new Map<string, Set<Subscriber>>()
    let remote = new Map<string, number>()
    let dropped = 0
    /** Set when the service stops: sockets closing after that have nothing to announce. */
    let closing = false
    const queue = yield* Queue.dropping<LogEvent>(config.queueSize)

    const deliverLocally = (tenantId: string, frame: string) => {
      const subscribers = local.get(tenantId)
      if (subscribers !== undefined) for (const subscriber of subscribers) subscriber.send(frame)
    }

    const refresh = repo.others(replicaId, config.presenceSeconds * 3).pipe(
      Effect.tap((rows) => Effect.sync(() => (remote = new Map(rows.map((row) => [row.tenant_id, row.clients]))))),
      Effect.catchAll((error) => Effect.logWarning("live logs: could not read other replicas' subscribers", error.message))
    )

    const announce = Effect.suspend(() =>
      closing ? Effect.void : repo.announce(replicaId, [...local].map(([tenantId, set]) => [tenantId, set.size] as const)).pipe(
        Effect.zipRight(notifications.notify(PRESENCE, replicaId)),
        Effect.catchAll((error) => Effect.logWarning("live logs: could not announce subscribers", error.message))
      )
    )
    // Presence changes are announced one at a time, in order.
    const announcing = yield* Effect.makeSemaphore(1)
    const announceNow = announcing.withPermits(1)(announce)

    // Fan-out: local subscribers first, then other replicas (one NOTIFY per event; events are per turn, not per frame).
    yield* Queue.takeBetween(queue, 1, 100).pipe(
      Effect.flatMap((events) =>
        Effect.forEach(events, (event) => {
          const frame = frameOf(event)
          deliverLocally(event.tenant_id, frame)
          return (remote.get(event.tenant_id) ?? 0) > 0
            ? notifications.notify(EVENTS, JSON.stringify({ t: event.tenant_id, f: frame })).pipe(
              Effect.catchAll((error) => Effect.logWarning("live logs: NOTIFY failed", error.message))
            )
            : Effect.void
        }, { discard: true })
      ),
      Effect.forever,
      Effect.forkScoped
    )

    yield* notifications.on(EVENTS, (note) => {
      if (note._tag !== "Message" || note.local) return
      const envelope = decodeEnvelope(note.payload)
      if (envelope._tag === "Some") deliverLocally(envelope.value.t, envelope.value.f)
    })
    // Another replica's presence changed (or we may have missed some): one re-read covers any number of them.
    const presenceChanged = makeWake()
    yield* notifications.on(PRESENCE, (note) => {
      if (note._tag === "Resync" || !note.local) presenceChanged.signal()
    })
    yield* migrations.awaitApplied.pipe(
      Effect.zipRight(Effect.forever(Effect.zipRight(presenceChanged.await, refresh))),
      Effect.forkScoped
    )
    // Migrations run in the background at start: the presence table may not exist before.
    yield* migrations.awaitApplied.pipe(
      Effect.zipRight(announceNow.pipe(Effect.zipRight(refresh), Effect.repeat(Schedule.spaced(`${config.presenceSeconds} seconds`)))),
      Effect.forkScoped
    )
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        closing = true
        return repo.forget(replicaId).pipe(Effect.ignore)
      })
    )

    return {
      /** Hot path: drops the event at once unless someone, somewhere, watches this tenant. */
      publish: (event: LogEvent): void => {
        if (!local.has(event.tenant_id) && !((remote.get(event.tenant_id) ?? 0) > 0)) return
        if (!queue.unsafeOffer(event)) dropped++
      },
      /** Whether anyone watches `tenantId` (callers may skip building events). */
      watched: (tenantId: string): boolean => local.has(tenantId) || (remote.get(tenantId) ?? 0) > 0,
      subscribe: (tenantId: string, subscriber: Subscriber) =>
        Effect.suspend(() => {
          const set = local.get(tenantId) ?? new Set()
          if (set.size >= config.maxSubscribersPerTenant) return Effect.succeed(false)
          set.add(subscriber)
          local.set(tenantId, set)
          return Effect.as(announceNow, true)
        }),
      unsubscribe: (tenantId: string, subscriber: Subscriber) =>
        Effect.suspend(() => {
          const set = local.get(tenantId)
          if (set === undefined || !set.delete(subscriber)) return Effect.void
          if (set.size === 0) local.delete(tenantId)
          return announceNow
        }),
      /** This replica's subscribers of the tenant plus the others' as last announced. */
      connectedClients: (tenantId: string) =>
        Effect.sync(() => (local.get(tenantId)?.size ?? 0) + (remote.get(tenantId) ?? 0)),
      droppedCount: Effect.sync(() => dropped)
    } as const
  }),
  dependencies: [LiveLogsConfig.Default, LiveLogsRepo.Default]
}) {}
