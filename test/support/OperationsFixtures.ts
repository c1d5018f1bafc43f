import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { expect } from "vitest"
import { expectSpecSchema } from "./SpecSchemas.js"
import { request } from "./TestServer.js"

/** Timestamps a task carries as null until they happen (docs/spec-deviations.md, Operations). */
const MOMENTS = [
  "acknowledged_at", "claimed_at", "completed_at", "last_dispatch_attempted_at", "last_sla_alert_due_at",
  "last_sla_alerted_at", "snoozed_until", "sla_due_at"
] as const

/** Validates a task against the spec's `CallbackTask`, nulls of not-yet-happened moments aside. */
export const expectSpecTask = (task: Record<string, unknown>) => {
  for (const key of MOMENTS) expect(key in task, key).toBe(true)
  const filled = Object.fromEntries(Object.entries(task).map(([k, v]) => [k, v === null && (MOMENTS as ReadonlyArray<string>).includes(k) ? "1970-01-01T00:00:00Z" : v]))
  expectSpecSchema(filled, "CallbackTask")
}


export const createTask = (headers: Record<string, string>, json: Record<string, unknown>) =>
  request("POST", "/api/v1/callback-tasks", { headers, json }).pipe(
    Effect.tap((res) => res.status === 201 ? Effect.void : Effect.dieMessage(`create task: ${res.status} ${res.text}`)),
    Effect.map((res) => res.body as { id: string } & Record<string, any>)
  )

export const putQueue = (headers: Record<string, string>, key: string, json: Record<string, unknown>) =>
  request("PUT", `/api/v1/operator-queues/${key}`, { headers, json }).pipe(
    Effect.tap((res) => res.status === 200 ? Effect.void : Effect.dieMessage(`put queue: ${res.status} ${res.text}`)),
    Effect.map((res) => res.body as Record<string, any>)
  )

/** The tenant's outbox rows for callback task events, oldest first. */
export const taskEvents = (tenantId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ event: string; payload: { data: { id: string } } }>`select event, payload from webhook_outbox
      where tenant_id = ${tenantId} and event like 'voice.callback_task.%' order by created_at, id`).pipe(Effect.orDie)
