import { PgClient } from "@effect/sql-pg"
import { Effect } from "effect"
import { orNothing, orRefused } from "../Database/Errors.js"

export type TransferMode = "cold" | "warm" | "barge"
export type TransferStatus = "pending" | "answered" | "unanswered" | "completed"

/** One transfer attempt, with what a stream token for the same call needs (from its call log). */
export interface TransferRow {
  readonly id: string
  readonly tenant_id: string
  readonly call_sid: string
  readonly stream_sid: string | null
  readonly mode: TransferMode
  readonly target: string
  readonly reason: string | null
  readonly initiated_by: "ai" | "supervisor"
  readonly conference_name: string | null
  readonly summary: string | null
  readonly status: TransferStatus
  readonly dial_call_status: string | null
}

/** The call's log as the voice webhook opened it (read to resume the same call with the agent). */
export interface CallOrigin {
  readonly direction: "inbound" | "outbound"
  readonly from_number: string | null
  readonly to_number: string | null
  readonly agent_version_id: string | null
}

export interface NewTransfer {
  readonly id: string
  readonly tenantId: string
  readonly callSid: string
  readonly streamSid: string | null
  readonly mode: TransferMode
  readonly target: string
  readonly reason: string | null
  readonly initiatedBy: "ai" | "supervisor"
  readonly conferenceName: string | null
  readonly summary: string | null
}

/** `call_transfers`: every query is scoped by tenant. */
export class TransfersRepo extends Effect.Service<TransfersRepo>()("TransfersRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* PgClient.PgClient

    const insert = (transfer: NewTransfer) =>
      orRefused(sql`
        insert into call_transfers (id, tenant_id, call_sid, stream_sid, mode, target, reason, initiated_by, conference_name, summary)
        values (${transfer.id}, ${transfer.tenantId}, ${transfer.callSid}, ${transfer.streamSid}, ${transfer.mode},
                ${transfer.target}, ${transfer.reason}, ${transfer.initiatedBy}, ${transfer.conferenceName}, ${transfer.summary})`).pipe(
        Effect.asVoid
      )

    const find = (tenantId: string, id: string) =>
      orNothing(
        sql<TransferRow>`select id, tenant_id, call_sid, stream_sid, mode, target, reason, initiated_by,
            conference_name, summary, status, dial_call_status
          from call_transfers where tenant_id = ${tenantId} and id = ${id}`.pipe(Effect.map((rows) => rows[0])),
        undefined
      )

    /**
     * Moves a pending transfer to its outcome; the row only when this call made the move,
     * so the one escalation an answer makes is announced once whatever Twilio repeats.
     */
    const settle = (tenantId: string, id: string, status: Exclude<TransferStatus, "pending">, dialCallStatus: string | null) =>
      orRefused(sql<TransferRow>`
        update call_transfers set status = ${status},
          dial_call_status = coalesce(${dialCallStatus}, dial_call_status), updated_at = now()
        where tenant_id = ${tenantId} and id = ${id}
          and (status = 'pending' or (status = 'answered' and ${status} = 'completed'))
        returning id, tenant_id, call_sid, stream_sid, mode, target, reason, initiated_by,
          conference_name, summary, status, dial_call_status`).pipe(Effect.map((rows) => rows[0]))

    /** Read-only look at the call's log row (owned by CallLogs) for the stream token's claims. */
    const callOrigin = (tenantId: string, callSid: string) =>
      orNothing(
        sql<CallOrigin>`select direction, from_number, to_number, agent_version_id from call_logs
          where tenant_id = ${tenantId} and call_sid = ${callSid} limit 1`.pipe(Effect.map((rows) => rows[0])),
        undefined
      )

    return { insert, find, settle, callOrigin } as const
  })
}) {}
