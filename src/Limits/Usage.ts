import { Effect } from "effect"
import type { LimitsRepo } from "./Repo.js"
import type { EffectiveLimits } from "./Settings.js"

export const minuteStart = (at: Date) => new Date(at.getTime() - (at.getTime() % 60_000))
export const dayStart = (at: Date) => new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()))
/** Budgets run by calendar month in UTC. */
export const monthStart = (at: Date) => new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1))
export const monthKey = (at: Date) => monthStart(at).toISOString().slice(0, 10)

const gauge = (used: number, limit: number | null) => ({ used, limit })

/** Usage against every limit, for the tenant runtime view (docs/limits.md, "Visibility"). */
export const usageView = (
  repo: LimitsRepo,
  replicaId: string,
  limits: EffectiveLimits,
  tenantId: string,
  at: Date,
  ttlMs: number
) =>
  Effect.gen(function*() {
    // Slots reserved ahead count against the caps but are nobody's call: `used` is the calls.
    const counts = yield* repo.callsOnly(tenantId, replicaId, new Date(at.getTime() - ttlMs))
    const [callsMinute, callsDay, smsMinute, smsDay, minutes] = yield* Effect.all([
      repo.hits(tenantId, "calls_minute", minuteStart(at)),
      repo.hits(tenantId, "calls_day", dayStart(at)),
      repo.hits(tenantId, "sms_minute", minuteStart(at)),
      repo.hits(tenantId, "sms_day", dayStart(at)),
      repo.minutesSince(tenantId, monthStart(at))
    ])
    return {
      concurrent_calls: gauge(counts.tenant, limits.maxConcurrentCalls),
      replica_calls: gauge(counts.replica, limits.maxCallsPerReplica),
      outbound_calls_this_minute: gauge(callsMinute, limits.outboundCallsPerMinute),
      outbound_calls_today: gauge(callsDay, limits.outboundCallsPerDay),
      sms_this_minute: gauge(smsMinute, limits.smsPerMinute),
      sms_today: gauge(smsDay, limits.smsPerDay),
      call_minutes_this_month: gauge(minutes, limits.monthlyCallMinutes),
      destinations: {
        allowed_country_codes: [...limits.allowedCountryCodes],
        allow_premium: limits.allowPremium,
        allow_satellite: limits.allowSatellite
      },
      over_capacity: limits.overCapacity,
      inbound_over_budget: limits.inboundOverBudget
    }
  })
