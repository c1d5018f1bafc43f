import { Effect } from "effect"

/** Counters of webhook tenant resolution on this replica (the spec's AdminTwilioWebhookResolutionDiagnostics). */
export interface Counters {
  requests_total: number
  successes_total: number
  failures_total: number
  explicit_token_success: number
  explicit_token_invalid: number
  hint_cache_lookups: number
  hint_cache_hits: number
  hint_cache_misses: number
  hint_cache_expired: number
  hint_cache_signature_mismatch: number
  hint_cache_stale_token: number
  signature_lookup_candidates_evaluated_total: number
  signature_lookup_success: number
  signature_lookup_not_found: number
  signature_lookup_tenant_load_error: number
}

const zero = (): Counters => ({
  requests_total: 0,
  successes_total: 0,
  failures_total: 0,
  explicit_token_success: 0,
  explicit_token_invalid: 0,
  hint_cache_lookups: 0,
  hint_cache_hits: 0,
  hint_cache_misses: 0,
  hint_cache_expired: 0,
  hint_cache_signature_mismatch: 0,
  hint_cache_stale_token: 0,
  signature_lookup_candidates_evaluated_total: 0,
  signature_lookup_success: 0,
  signature_lookup_not_found: 0,
  signature_lookup_tenant_load_error: 0
})

const rate = (part: number, whole: number) => (whole === 0 ? 0 : part / whole)

export class ResolutionCounters extends Effect.Service<ResolutionCounters>()("ResolutionCounters", {
  sync: () => {
    let counters = zero()
    const bump = (name: keyof Counters, by = 1) => void (counters[name] += by)
    return {
      count: (name: keyof Counters, by = 1) => Effect.sync(() => bump(name, by)),
      /** `count` as plain code (the webhook's warm path). */
      bump,
      snapshot: Effect.sync(() => ({
        ...counters,
        hint_cache_hit_rate: rate(counters.hint_cache_hits, counters.hint_cache_lookups),
        success_rate: rate(counters.successes_total, counters.requests_total)
      })),
      reset: Effect.sync(() => void (counters = zero()))
    } as const
  }
}) {}
