import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"

/** SQL for `live_log_clients`: each replica's subscriber count per tenant (migrations/0015). */
export class LiveLogsRepo extends Effect.Service<LiveLogsRepo>()("LiveLogsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    /** This replica's counts replace its rows (a tenant with none left loses its row). */
    const announce = (replicaId: string, counts: ReadonlyArray<readonly [string, number]>) =>
      sql.withTransaction(Effect.gen(function*() {
        yield* sql`delete from live_log_clients where replica_id = ${replicaId}`
        for (const [tenantId, clients] of counts) {
          yield* sql`insert into live_log_clients (replica_id, tenant_id, clients, updated_at)
                     values (${replicaId}, ${tenantId}, ${clients}, now())`
        }
      }))

    /** Other replicas' subscribers per tenant; a replica silent for three periods is gone. */
    const others = (replicaId: string, staleSeconds: number) =>
      sql<{ tenant_id: string; clients: number }>`
        select tenant_id, sum(clients)::int as clients from live_log_clients
        where replica_id <> ${replicaId} and updated_at > now() - make_interval(secs => ${staleSeconds})
        group by tenant_id`

    const forget = (replicaId: string) => sql`delete from live_log_clients where replica_id = ${replicaId}`.pipe(Effect.asVoid)

    return { announce, others, forget } as const
  })
}) {}
