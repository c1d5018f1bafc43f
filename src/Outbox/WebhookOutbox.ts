import { PgClient } from "@effect/sql-pg"
import { Effect } from "effect"
import { orRefused } from "../Database/Errors.js"
import { Ids } from "../Ids.js"

/**
 * Appends tenant webhook events (the spec's `WebhookEvent` envelope) to `webhook_outbox`.
 * Call it inside the transaction that makes the change; the delivery worker (Outbox)
 * claims pending rows with `FOR UPDATE SKIP LOCKED` and delivers them.
 */
export class WebhookOutbox extends Effect.Service<WebhookOutbox>()("WebhookOutbox", {
  effect: Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const ids = yield* Ids

    /** `data` carries what a call said and dialled, which PostgreSQL may refuse (NUL). */
    const enqueue = (tenantId: string, event: string, data: Record<string, unknown>, at: Date) =>
      Effect.flatMap(ids.uuid, (id) =>
        orRefused(sql`
          insert into webhook_outbox (id, tenant_id, event, payload)
          values (${id}, ${tenantId}, ${event},
                  ${JSON.stringify({ event, timestamp: at.toISOString(), tenant_id: tenantId, data })}::jsonb)`)).pipe(
        Effect.asVoid
      )

    return { enqueue } as const
  })
}) {}
