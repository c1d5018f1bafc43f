import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Option, Schema } from "effect"

const Row = Schema.Struct({
  request_hash: Schema.String,
  response: Schema.NullOr(Schema.Unknown),
  outcome_unknown: Schema.Boolean
})
const decodeRows = Schema.decodeUnknown(Schema.Array(Row))

/** SQL for `outbound_idempotency` (migrations/0015). */
export class IdempotencyRepo extends Effect.Service<IdempotencyRepo>()("IdempotencyRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    /**
     * Takes the key: a new row, or an expired one taken over. A concurrent insert of the
     * same key waits on the first one's row lock, so exactly one caller gets `true`.
     */
    const claim = (tenantId: string, key: string, hash: string, at: Date, expiredBefore: Date) =>
      sql`insert into outbound_idempotency (tenant_id, idempotency_key, request_hash, response, created_at)
          values (${tenantId}, ${key}, ${hash}, null, ${at})
          on conflict (tenant_id, idempotency_key) do update
            set request_hash = excluded.request_hash, response = null, created_at = excluded.created_at,
              outcome_unknown_at = null
            where outbound_idempotency.created_at < ${expiredBefore}
          returning 1 as claimed`.pipe(Effect.map((rows) => rows.length === 1))

    const find = (tenantId: string, key: string) =>
      sql`select request_hash, response, outcome_unknown_at is not null as outcome_unknown from outbound_idempotency
          where tenant_id = ${tenantId} and idempotency_key = ${key}`.pipe(
        Effect.flatMap(decodeRows),
        Effect.map((rows) => Option.fromNullable(rows[0]))
      )

    const complete = (tenantId: string, key: string, response: unknown) =>
      sql`update outbound_idempotency set response = ${JSON.stringify(response)}::jsonb
          where tenant_id = ${tenantId} and idempotency_key = ${key}`.pipe(Effect.asVoid)

    /** The first request failed before any call existed: the key is free for a retry. */
    const release = (tenantId: string, key: string) =>
      sql`delete from outbound_idempotency
          where tenant_id = ${tenantId} and idempotency_key = ${key} and response is null`.pipe(Effect.asVoid)

    /** The first request's outcome is unknown (Twilio timed out): the key stays taken, never freed for a redial. */
    const markUnknown = (tenantId: string, key: string) =>
      sql`update outbound_idempotency set outcome_unknown_at = now()
          where tenant_id = ${tenantId} and idempotency_key = ${key} and response is null`.pipe(Effect.asVoid)

    /** Keys past their lifetime are only kept until the tenant's next keyed request. */
    const forgetExpired = (tenantId: string, expiredBefore: Date) =>
      sql`delete from outbound_idempotency where tenant_id = ${tenantId} and created_at < ${expiredBefore}`.pipe(Effect.asVoid)

    return { claim, find, complete, release, markUnknown, forgetExpired } as const
  })
}) {}
