import type { Statement } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Clock, Effect, Option } from "effect"
import { orRefused } from "../Database/Errors.js"
import { Notifications } from "../Database/Notifications.js"
import type { StatementPart } from "../Database/StatementParts.js"
import { Ids } from "../Ids.js"
import { WebhookEndpoints } from "./Endpoints.js"
import { piece } from "../Database/Piece.js"

/** The channel on which a commit that enqueued something wakes the delivery workers. */
export const OUTBOX_CHANNEL = "outbox"

const WAKE_WORKERS = { channel: OUTBOX_CHANNEL, payload: "webhook" } as const

/** The event types tenants receive (docs/webhooks.md). */
export const WebhookEvents = {
  callStarted: "voice.call.started",
  callCompleted: "voice.call.completed",
  callEscalated: "voice.call.escalated",
  sessionEvaluated: "voice.session.evaluated",
  deliveryFailed: "voice.webhook.delivery_failed"
} as const

/**
 * Appends tenant webhook events (the spec's `WebhookEvent` envelope plus a stable `id`) to
 * `webhook_outbox`, only for a tenant with a webhook endpoint. Call it inside the
 * transaction that makes the change: the row and the NOTIFY that wakes the delivery worker
 * (Worker.ts) commit with it, or not at all.
 */
export class WebhookOutbox extends Effect.Service<WebhookOutbox>()("WebhookOutbox", {
  effect: Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const ids = yield* Ids
    const endpoints = yield* WebhookEndpoints
    const notifications = yield* Notifications

    /**
     * A new event's ids: the row's, and the envelope's `id` tenants see (and may dedupe on).
     * Plain, for writers that build a statement on every call (the end-of-call record).
     */
    const nextEventIds = () => {
      const rowId = ids.nextUuid()
      return { rowId, msgId: `msg_${ids.nextUuid().replaceAll("-", "")}` }
    }
    const eventIds = Effect.sync(nextEventIds)

    /** The row's id when written (due at `dueAt`), None for a tenant without an endpoint. */
    const insert = (tenantId: string, event: string, data: Record<string, unknown>, at: Date, dueAt: Date | null) =>
      Effect.gen(function*() {
        if (Option.isNone(yield* endpoints.endpointOf(tenantId))) return Option.none<string>()
        const { msgId: id, rowId } = yield* eventIds
        // Due now by the service clock (not the database's), so TestClock drives retries.
        const now = new Date(yield* Clock.currentTimeMillis)
        const envelope = { id, event, timestamp: at.toISOString(), tenant_id: tenantId, data }
        yield* orRefused(sql`
          insert into webhook_outbox (id, tenant_id, event, payload, next_attempt_at)
          values (${rowId}, ${tenantId}, ${event}, ${JSON.stringify(envelope)}::jsonb, ${dueAt ?? now})`)
        if (dueAt === null) yield* notifications.notify(OUTBOX_CHANNEL, "webhook")
        return Option.some(rowId)
      })

    /**
     * True when a row was written. `data` carries what a call said and dialled, which
     * PostgreSQL may refuse (NUL).
     */
    const enqueue = (tenantId: string, event: string, data: Record<string, unknown>, at: Date) =>
      Effect.map(insert(tenantId, event, data, at, null), Option.isSome)

    /**
     * An event held back until `until` (the worker picks rows by `next_attempt_at`), so work
     * finishing after the commit can complete it with `release`; past `until` it goes as written.
     */
    const enqueueHeld = (tenantId: string, event: string, data: Record<string, unknown>, at: Date, until: Date) =>
      insert(tenantId, event, data, at, until)

    /**
     * As a part of a one-statement write: makes a held event due now with `patch` merged into its
     * `data`, if `guard` selects a row; none when it already went (or is going) out as written,
     * which is the bound doing its job. `returning id`; a released event wakes the delivery workers.
     */
    const releasePart = (
      name: string,
      tenantId: string,
      rowId: string,
      now: Date,
      patch: Record<string, unknown>,
      guard: Statement.Fragment
    ): StatementPart => ({
      name,
      statement: sql`
        update webhook_outbox set payload = jsonb_set(payload, '{data}', (payload->'data') || ${JSON.stringify(patch)}::jsonb),
          next_attempt_at = least(next_attempt_at, ${now}), updated_at = now()
        where id = ${rowId} and tenant_id = ${tenantId} and status = 'pending' and attempts = 0
          and (lease_expires_at is null or lease_expires_at <= ${now}) and exists (${guard})
        returning id`,
      wakes: { channel: OUTBOX_CHANNEL, payload: "webhook" }
    })

    /**
     * `enqueue` (or `enqueueHeld` until `heldUntil`) as a part of a one-statement write: an event
     * per row of `source`, which selects `row_id` (uuid), `msg_id` and `data` (jsonb; ids from
     * `eventIds`), written only while the tenant's endpoint is not disabled; `returning id`.
     * None for a tenant without a webhook URL. An event due now wakes the delivery workers.
     */
    const eventsPart = (
      name: string,
      tenantId: string,
      event: string,
      at: Date,
      heldUntil: Date | null,
      source: Statement.Fragment
    ) =>
      Effect.flatMap(endpoints.urlOf(tenantId), (url) =>
        Option.isNone(url)
          ? Effect.succeed(Option.none<StatementPart>())
          // Due now by the service clock (not the database's), so TestClock drives retries.
          : Effect.map(Clock.currentTimeMillis, (now) =>
            Option.some(eventsPartAt(url.value, name, tenantId, event, at, heldUntil, now, source))
          ))

    /**
     * `eventsPart` as plain code, for a writer that already holds the tenant's webhook URL (its
     * cached config's `webhook_url`) and the service clock's `now` (due then unless held): the
     * end-of-call record builds its parts on every call without an Effect per part.
     */
    const eventsPartAt = (
      url: string,
      name: string,
      tenantId: string,
      event: string,
      at: Date,
      heldUntil: Date | null,
      now: number,
      source: Statement.Fragment
    ): StatementPart => {
      const statement = piece`
          insert into webhook_outbox (id, tenant_id, event, payload, next_attempt_at)
          select e.row_id::uuid, ${tenantId}, ${event}, jsonb_build_object('id', e.msg_id::text, 'event', ${event}::text,
              'timestamp', ${at.toISOString()}::text, 'tenant_id', ${tenantId}::text, 'data', e.data::jsonb),
            ${(heldUntil ?? new Date(now)).toISOString()}::timestamptz
          from (${source}) e
          where not exists (select 1 from webhook_endpoints_disabled d where d.tenant_id = ${tenantId} and d.url = ${url})
          returning id`
      return heldUntil === null ? { name, statement, wakes: WAKE_WORKERS } : { name, statement }
    }

    /**
     * False when `enqueue` would certainly write nothing (the tenant has no webhook URL; read
     * from the tenant cache, no SQL): a caller may then skip the transaction it only opened
     * to make the event commit with its change.
     */
    const mayEnqueue = (tenantId: string) => endpoints.configured(tenantId)

    return { enqueue, enqueueHeld, releasePart, mayEnqueue, eventIds, nextEventIds, eventsPart, eventsPartAt } as const
  }),
  dependencies: [WebhookEndpoints.Default]
}) {}
