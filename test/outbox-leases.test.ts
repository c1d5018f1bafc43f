import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { WebhookOutboxRepo } from "../src/Outbox/Repo.js"
import { serverSuite } from "./support/TestServer.js"

const at = (seconds: number) => new Date(Date.parse("2030-01-01T00:00:00.000Z") + seconds * 1000)

// No background worker: the test plays two workers against the claim and record statements.
serverSuite({ OUTBOX_WORKER_ENABLED: "false" })("outbox claims and leases", (it) => {
  it.effect("a row is claimed by one worker at a time; an expired lease makes it claimable; only the holder records", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const repo = yield* WebhookOutboxRepo
      const id = randomUUID()
      yield* sql`insert into webhook_outbox (id, tenant_id, event, payload, next_attempt_at)
                 values (${id}, 'lease-co', 'voice.call.started', ${JSON.stringify({ id: "msg_lease" })}::jsonb, ${at(0)})`
      const mine = (rows: ReadonlyArray<{ id: string }>) => rows.filter((row) => row.id === id)

      // Worker 1 claims with a 60 s lease; worker 2, claiming meanwhile, does not get the row.
      expect(mine(yield* repo.claim("00000000-0000-4000-8000-000000000001", at(1), at(61), 1000))).toHaveLength(1)
      expect(mine(yield* repo.claim("00000000-0000-4000-8000-000000000002", at(30), at(90), 1000))).toHaveLength(0)

      // Worker 1 stalls past its lease: worker 2 takes the row over.
      const taken = mine(yield* repo.claim("00000000-0000-4000-8000-000000000002", at(62), at(122), 1000))
      expect(taken).toHaveLength(1)
      expect(taken[0]).toMatchObject({ message_id: "msg_lease", tenant_id: "lease-co", attempts: 0 })

      // Worker 1's late result is refused, and so is worker 2's once its own lease has run out.
      const delivered = { _tag: "Delivered", statusCode: 200 } as const
      expect(yield* repo.record(id, "lease-co", "00000000-0000-4000-8000-000000000001", at(63), delivered)).toBe(false)
      expect(yield* repo.record(id, "lease-co", "00000000-0000-4000-8000-000000000002", at(125), delivered)).toBe(false)
      // Worker 3 claims the expired row and records while it holds the lease; the wrong tenant never matches.
      expect(mine(yield* repo.claim("00000000-0000-4000-8000-000000000003", at(126), at(186), 1000))).toHaveLength(1)
      expect(yield* repo.record(id, "other-co", "00000000-0000-4000-8000-000000000003", at(127), delivered)).toBe(false)
      expect(yield* repo.record(id, "lease-co", "00000000-0000-4000-8000-000000000003", at(127), delivered)).toBe(true)

      const [row] = yield* sql<{ status: string; attempts: number; lease_token: string | null }>`
        select status, attempts, lease_token from webhook_outbox where id = ${id}`
      expect(row).toEqual({ status: "delivered", attempts: 1, lease_token: null })
      // Delivered rows are never claimed again.
      expect(mine(yield* repo.claim("00000000-0000-4000-8000-000000000004", at(500), at(560), 1000))).toHaveLength(0)
    }).pipe(Effect.orDie))
})
