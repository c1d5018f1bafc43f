import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"
import type { CallSeen } from "../CallLogs/Writes.js"
import { commitWithoutFlush } from "./Repo.js"

/** A reservation a webhook took: its admission's id and the call it now admits. */
export interface TakenReservation {
  readonly id: string
  /** The call log's first sighting, written with the SID unless the sighting enqueues an event (written apart). */
  readonly seen: CallSeen
  readonly recordSighting: boolean
  readonly logId: string
}

/** SQL for admissions reserved ahead (migrations/0042_call_admissions_ahead.sql). */
export class AheadRepo extends Effect.Service<AheadRepo>()("AheadRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    /**
     * Up to `ids.length` reservations for the tenant, as room allows; the ids reserved. It holds
     * the tenant's admission lock to its commit, so it commits without waiting for the WAL flush
     * as the inbound admission does (`commitWithoutFlush`, Repo.ts): a reservation a PostgreSQL
     * crash loses is admitted again by its call's `taken` write if a webhook used it.
     */
    const reserve = (input: {
      readonly ids: ReadonlyArray<string>
      readonly tenantId: string
      readonly replicaId: string
      readonly at: Date
      readonly cutoff: Date
      readonly tenantRoom: number
      readonly replicaRoom: number
    }) =>
      sql<{ reserved: ReadonlyArray<string> | null }>`
        select reserved, ${sql.unsafe(commitWithoutFlush)} from reserve_call_admissions(${input.ids}::uuid[], ${input.tenantId}, ${input.replicaId},
          ${input.at}, ${input.cutoff}, ${input.tenantRoom}, ${input.replicaRoom})`.pipe(
        Effect.map((rows) => rows[0]?.reserved ?? [])
      )

    /** The SIDs (and sightings) of reservations webhooks took, in one statement. */
    const taken = (replicaId: string, batch: ReadonlyArray<TakenReservation>) => {
      const column = <A>(f: (t: TakenReservation) => A) => batch.map(f)
      return sql`
        select reserved_admissions_taken(
          ${column((t) => t.id)}::uuid[], ${column((t) => t.seen.tenantId)}::text[], ${replicaId},
          ${column((t) => t.seen.callSid)}::text[], ${column((t) => t.seen.at.toISOString())}::timestamptz[],
          ${column((t) => t.recordSighting)}::boolean[], ${column((t) => t.logId)}::uuid[],
          ${column((t) => t.seen.from)}::text[], ${column((t) => t.seen.to)}::text[],
          ${column((t) => t.seen.agentVersionId)}::uuid[], ${column((t) => t.seen.twilioStatus)}::text[])`.pipe(
        Effect.asVoid
      )
    }

    /**
     * Unused reservations re-stamped at `at` so the TTL does not end them; those already past
     * `cutoff` (no longer counted: another admission may have their slot) are not, and are gone
     * from the answer: the ids still held.
     */
    const renew = (ids: ReadonlyArray<string>, at: Date, cutoff: Date) =>
      sql<{ id: string }>`
        update call_admissions set admitted_at = ${at}
        where id = any(${ids}::uuid[]) and call_sid is null and admitted_at > ${cutoff}
        returning id::text as id`.pipe(Effect.map((rows) => rows.map((row) => row.id)))

    /** Unused reservations given back: their slots are free at once. */
    const release = (ids: ReadonlyArray<string>) =>
      sql`delete from call_admissions where id = any(${ids}::uuid[]) and call_sid is null`.pipe(Effect.asVoid)

    /** The replica's admissions whose calls have started since their SID was written (see the migration). */
    const settle = (replicaId: string) => sql`select settle_replica_admissions(${replicaId})`.pipe(Effect.asVoid)

    return { reserve, taken, renew, release, settle } as const
  })
}) {}
