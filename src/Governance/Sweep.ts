import * as SqlClient from "@effect/sql/SqlClient"
import { Duration, Effect, Either, Option, Schedule } from "effect"
import { AppConfig } from "../Config.js"
import { orUnavailable } from "../Database/Errors.js"
import { Migrations } from "../Database/Migrations.js"
import { REDACTED } from "../Tenants/Domain.js"
import { TenantCache } from "../TenantCache/TenantCache.js"
import { measureSweep } from "../Observability/Metrics.js"
import { GovernanceRepo } from "./Repo.js"
import {
  RolloutGovernanceSweepFailure,
  RolloutGovernanceSweepItem,
  RolloutGovernanceSweepResult
} from "./Schemas.js"
import { RolloutGovernance } from "./RolloutGovernance.js"

export interface SweepOptions {
  /** At most this many tenants (those with an enabled policy, in tenant order). */
  readonly limit: number
  readonly apply: boolean
  /** Only the tenant with this legacy auth token. */
  readonly authToken: string | null
  /** Who is recorded on applied rollbacks. */
  readonly actor: string
  /** Skip agents swept less than this long ago (scheduled sweeps); null = sweep regardless. */
  readonly dueAfterSeconds: number | null
}

/**
 * Runs rollout governance across tenants. Each agent is evaluated inside a transaction that
 * holds its policy row (`FOR UPDATE SKIP LOCKED`): a replica sweeping at the same moment
 * skips it, and a scheduled sweep also skips agents swept within half an interval. Every
 * replica runs the schedule; the admin endpoint runs the same sweep once.
 */
export class GovernanceSweep extends Effect.Service<GovernanceSweep>()("GovernanceSweep", {
  scoped: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* GovernanceRepo
    const governance = yield* RolloutGovernance
    const cache = yield* TenantCache
    const migrations = yield* Migrations

    const tenantsFor = (options: SweepOptions) =>
      options.authToken === null
        ? repo.tenantsWithPolicies(options.limit)
        : Effect.map(cache.findByAuthToken(options.authToken), (tenant) => Option.toArray(Option.map(tenant, (t) => t.tenantId)))

    const sweep = Effect.fn("GovernanceSweep.sweep")(function*(options: SweepOptions) {
      const tenants = yield* tenantsFor(options)
      const items: Array<RolloutGovernanceSweepItem> = []
      const failures: Array<RolloutGovernanceSweepFailure> = []
      const evaluatedTenants = new Set<string>()
      let attemptedAgents = 0
      for (const tenantId of tenants) {
        const agentIds = yield* Effect.either(repo.governedAgents(tenantId))
        if (Either.isLeft(agentIds)) {
          failures.push(new RolloutGovernanceSweepFailure({ agent_id: null, auth_token: REDACTED, error: `${tenantId}: ${agentIds.left.message}` }))
          continue
        }
        for (const agentId of agentIds.right) {
          attemptedAgents++
          const outcome = yield* orUnavailable(sql.withTransaction(Effect.gen(function*() {
            if (!(yield* repo.claim(tenantId, agentId, options.dueAfterSeconds))) return Option.none()
            return Option.some(yield* governance.evaluate(tenantId, agentId, { apply: options.apply, actor: options.actor }))
          }))).pipe(Effect.either)
          if (Either.isLeft(outcome)) {
            failures.push(new RolloutGovernanceSweepFailure({ agent_id: agentId, auth_token: REDACTED, error: `${tenantId}: ${outcome.left.message}` }))
          } else if (Option.isSome(outcome.right)) {
            evaluatedTenants.add(tenantId)
            items.push(new RolloutGovernanceSweepItem({ tenant_id: tenantId, auth_token: REDACTED, evaluation: outcome.right.value }))
          }
        }
      }
      return new RolloutGovernanceSweepResult({
        attempted_tenants: tenants.length,
        evaluated_tenants: evaluatedTenants.size,
        attempted_agents: attemptedAgents,
        evaluated_agents: items.length,
        rollback_recommended: items.filter((item) => item.evaluation.status === "failing").length,
        // `applied` is also a promotion (status healthy); the spec's counters are about rollbacks.
        rollbacks_applied: items.filter((item) => item.evaluation.applied && item.evaluation.status === "failing").length,
        items,
        failures
      })
    }, measureSweep("rollout_governance", (result) => result.evaluated_agents))

    const interval = (yield* AppConfig).rolloutGovernanceSweepIntervalSecs
    if (interval > 0) {
      const scheduled = sweep({ limit: 10_000, apply: true, authToken: null, actor: "scheduled_sweep", dueAfterSeconds: interval / 2 }).pipe(
        Effect.tap((result) =>
          result.evaluated_agents === 0 && result.failures?.length === 0
            ? Effect.void
            : Effect.logInfo("rollout governance sweep").pipe(Effect.annotateLogs({
              evaluated_agents: result.evaluated_agents,
              rollback_recommended: result.rollback_recommended,
              rollbacks_applied: result.rollbacks_applied,
              promotions_applied: result.items?.filter((item) => item.evaluation.applied && item.evaluation.status !== "failing").length ?? 0,
              failures: result.failures?.length ?? 0
            }))
        ),
        Effect.catchAllCause((cause) => Effect.logWarning("rollout governance sweep failed", cause))
      )
      yield* migrations.awaitApplied.pipe(
        Effect.zipRight(Effect.sleep(Duration.seconds(interval))),
        Effect.zipRight(Effect.repeat(scheduled, Schedule.spaced(Duration.seconds(interval)))),
        Effect.forkScoped
      )
    }

    return { sweep } as const
  }),
  dependencies: [GovernanceRepo.Default, RolloutGovernance.Default]
}) {}
