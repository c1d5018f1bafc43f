import { Effect } from "effect"
import { WebhookOutbox } from "../Outbox/WebhookOutbox.js"
import { LimitsRepo } from "./Repo.js"
import type { EffectiveLimits } from "./Settings.js"
import { monthKey, monthStart } from "./Usage.js"

/** Percentages of the monthly budget that send `voice.budget.warning` (once each per month). */
const THRESHOLDS = [80, 100]

/**
 * Monthly call minutes, summed from the call logs (each call rounded up to a minute). Runs
 * inside the admission transaction, so the once-per-month notice and its outbox row commit
 * together and two replicas never both send it.
 */
export class Budgets extends Effect.Service<Budgets>()("Budgets", {
  effect: Effect.gen(function*() {
    const repo = yield* LimitsRepo
    const outbox = yield* WebhookOutbox

    /** Whether new work is past the budget; sends the threshold events reached on the way. */
    const exhausted = (tenantId: string, limits: EffectiveLimits, at: Date) =>
      Effect.gen(function*() {
        const limit = limits.monthlyCallMinutes
        if (limit === null) return false
        const used = yield* repo.minutesSince(tenantId, monthStart(at))
        for (const threshold of THRESHOLDS) {
          if (used * 100 < limit * threshold) continue
          if (yield* repo.firstNotice(tenantId, monthKey(at), threshold, at)) {
            yield* outbox.enqueue(tenantId, "voice.budget.warning", {
              threshold_percent: threshold,
              used_minutes: used,
              limit_minutes: limit,
              month: monthKey(at).slice(0, 7)
            }, at)
          }
        }
        return used >= limit
      })

    return { exhausted } as const
  }),
  dependencies: [LimitsRepo.Default, WebhookOutbox.Default]
}) {}
