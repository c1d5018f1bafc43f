import { Effect, Option, Redacted } from "effect"
import { PhoneNumberRoutes, type RouteLookup } from "../PhoneRoutes/PhoneNumberRoutes.js"
import type { PhoneNumberRouteDirection } from "../PhoneRoutes/Api.js"
import { sha256Hex } from "../Auth/Crypto.js"
import { AppConfig } from "../Config.js"
import type { DatabaseUnavailable } from "../Database/Errors.js"
import { type CachedTenant, TenantCache } from "../TenantCache/TenantCache.js"
import { Tenants } from "../Tenants/Tenants.js"
import { type Hint, HintCache } from "./HintCache.js"
import { ResolutionCounters } from "./ResolutionCounters.js"
import { webhookAuthToken } from "./Account.js"
import { signatureMatches } from "./Signature.js"
import { spannedIf, spansExported } from "../Observability/Spans.js"

/** A Twilio webhook as far as resolution needs it. */
export interface WebhookCall {
  /** PUBLIC_BASE_URL + the path and query Twilio requested: what Twilio signed. */
  readonly url: string
  readonly params: Readonly<Record<string, string>>
  readonly signature: string | undefined
  /** `?tenant=` on the webhook URL. */
  readonly explicitTenant: string | undefined
  readonly accountSid: string | undefined
  /** Our number on the call (To inbound, From outbound) and the route direction it is looked up under. */
  readonly number: string | undefined
  readonly direction: PhoneNumberRouteDirection
}

/** The agent a route (or a hint learnt from one) assigns to the call. */
export interface RouteChoice {
  readonly agentId: string | null
  readonly pinnedVersionId: string | null
  readonly greeting: string | null
}

export type Resolution =
  | { readonly _tag: "Resolved"; readonly tenant: CachedTenant; readonly route: RouteChoice | null }
  | { readonly _tag: "Unknown" }
  | { readonly _tag: "BadSignature" }

const NO_ROUTE: RouteChoice | null = null

export const choiceOf = (route: RouteLookup): RouteChoice => ({
  agentId: route.agentId,
  pinnedVersionId: route.agentVersionId,
  greeting: route.greeting
})

type Resolved = Extract<Resolution, { readonly _tag: "Resolved" }>

/** The agent choice a hint carries: none when it assigns nothing. */
const hintRoute = (hint: Hint): RouteChoice | null =>
  hint.agentId === null && hint.pinnedVersionId === null && hint.greeting === null ? NO_ROUTE : hint

const fingerprint = (token: Option.Option<string>) => Option.match(token, { onNone: () => "-", onSome: sha256Hex })

/**
 * Which tenant a Twilio webhook is for, proven by its signature. In order: an explicit
 * `?tenant=` on the URL; the (AccountSid, number) hint cache; the phone-number routes;
 * tenants with that AccountSid, each tried against the signature. Every outcome is counted.
 */
export class TenantResolution extends Effect.Service<TenantResolution>()("TenantResolution", {
  effect: Effect.gen(function*() {
    const platform = yield* AppConfig
    const cache = yield* TenantCache
    const tenants = yield* Tenants
    const routes = yield* PhoneNumberRoutes
    const hints = yield* HintCache
    const counters = yield* ResolutionCounters
    // A span per resolution only when spans are exported, chosen once (Observability/Spans.ts `spannedIf`).
    const traced = yield* spansExported

    const tokenOf = (tenant: { readonly config: CachedTenant["config"] }) => webhookAuthToken(tenant.config, platform)

    /** No token configured (tenant or platform) means there is nothing to check against. */
    const verifies = (call: WebhookCall, token: Option.Option<string>) =>
      Option.isNone(token) || signatureMatches(token.value, call.url, call.params, call.signature)

    const explicit = (call: WebhookCall, tenantId: string) =>
      Effect.gen(function*() {
        const tenant = yield* cache.get(tenantId)
        if (Option.isNone(tenant)) {
          yield* counters.count("explicit_token_invalid")
          return Option.none<Resolution>()
        }
        if (!verifies(call, tokenOf(tenant.value))) {
          yield* counters.count("explicit_token_invalid")
          return Option.some<Resolution>({ _tag: "BadSignature" })
        }
        yield* counters.count("explicit_token_success")
        const route = yield* routeFor(call)
        const own = Option.filter(route, (found) => found.tenantId === tenantId)
        return Option.some<Resolution>({
          _tag: "Resolved",
          tenant: tenant.value,
          route: Option.match(own, { onNone: () => NO_ROUTE, onSome: choiceOf })
        })
      })

    const fromHint = (call: WebhookCall, accountSid: string, number: string) =>
      Effect.gen(function*() {
        yield* counters.count("hint_cache_lookups")
        const found = yield* hints.lookup(accountSid, number)
        if (found._tag !== "Found") {
          if (found._tag === "Expired") yield* counters.count("hint_cache_expired")
          yield* counters.count("hint_cache_misses")
          return Option.none<Resolution>()
        }
        const tenant = yield* cache.get(found.hint.tenantId)
        const token = Option.map(tenant, tokenOf)
        if (Option.isNone(tenant) || fingerprint(Option.flatten(token)) !== found.hint.tokenFingerprint) {
          yield* counters.count("hint_cache_stale_token")
          yield* hints.forget(accountSid, number)
          return Option.none<Resolution>()
        }
        if (!verifies(call, tokenOf(tenant.value))) {
          yield* counters.count("hint_cache_signature_mismatch")
          yield* hints.forget(accountSid, number)
          return Option.none<Resolution>()
        }
        yield* counters.count("hint_cache_hits")
        return Option.some<Resolution>({ _tag: "Resolved", tenant: tenant.value, route: hintRoute(found.hint) })
      })

    /**
     * `resolve` when it would end at a hint-cache hit (no `?tenant=`, a live hint, its tenant
     * cached with the same token, the signature verified), as plain code at `now`, counted as
     * `resolve` counts that. Undefined, with nothing counted or dropped, when `resolve` must run
     * (it then finds the miss, the expiry or the mismatch itself and counts it).
     */
    const resolveFromHintNow = (call: WebhookCall, now: number): Resolved | undefined => {
      if (call.explicitTenant !== undefined || call.accountSid === undefined || call.number === undefined) return undefined
      const hint = hints.peek(call.accountSid, call.number, now)
      if (hint === undefined) return undefined
      const tenant = cache.recall(hint.tenantId, now)
      if (tenant === undefined || Option.isNone(tenant)) return undefined
      const token = tokenOf(tenant.value)
      if (fingerprint(token) !== hint.tokenFingerprint || !verifies(call, token)) return undefined
      counters.bump("requests_total")
      counters.bump("hint_cache_lookups")
      counters.bump("hint_cache_hits")
      counters.bump("successes_total")
      return { _tag: "Resolved", tenant: tenant.value, route: hintRoute(hint) }
    }

    const routeFor = (call: WebhookCall) =>
      call.number === undefined ? Effect.succeed(Option.none()) : routes.lookup(call.number, call.direction)

    const remember = (call: WebhookCall, tenant: CachedTenant, route: RouteChoice | null) =>
      call.accountSid === undefined || call.number === undefined
        ? Effect.void
        : hints.remember(call.accountSid, call.number, {
          tenantId: tenant.tenantId,
          tokenFingerprint: fingerprint(tokenOf(tenant)),
          agentId: route?.agentId ?? null,
          pinnedVersionId: route?.pinnedVersionId ?? null,
          greeting: route?.greeting ?? null
        })

    const fromRoute = (call: WebhookCall) =>
      Effect.gen(function*() {
        const route = yield* routeFor(call)
        if (Option.isNone(route)) return Option.none<Resolution>()
        const tenant = yield* cache.get(route.value.tenantId)
        if (Option.isNone(tenant)) return Option.none<Resolution>()
        // The number's owner is known: a signature that does not verify is a forgery, not a miss.
        if (!verifies(call, tokenOf(tenant.value))) return Option.some<Resolution>({ _tag: "BadSignature" })
        const choice = choiceOf(route.value)
        yield* remember(call, tenant.value, choice)
        return Option.some<Resolution>({ _tag: "Resolved", tenant: tenant.value, route: choice })
      })

    const fromAccount = (call: WebhookCall, accountSid: string) =>
      Effect.gen(function*() {
        const candidates = yield* tenants.byTwilioAccountSid(accountSid).pipe(
          Effect.tapError(() => counters.count("signature_lookup_tenant_load_error"))
        )
        for (const candidate of candidates) {
          yield* counters.count("signature_lookup_candidates_evaluated_total")
          const token = tokenOf(candidate)
          if (Option.isSome(token) && signatureMatches(token.value, call.url, call.params, call.signature)) {
            yield* counters.count("signature_lookup_success")
            yield* remember(call, candidate, NO_ROUTE)
            return Option.some<Resolution>({ _tag: "Resolved", tenant: candidate, route: NO_ROUTE })
          }
        }
        // Without any token to check, a single tenant on the account is unambiguous.
        const unchecked = candidates.filter((candidate) => Option.isNone(tokenOf(candidate)))
        if (unchecked.length === 1 && candidates.length === 1) {
          yield* counters.count("signature_lookup_success")
          return Option.some<Resolution>({ _tag: "Resolved", tenant: unchecked[0]!, route: NO_ROUTE })
        }
        yield* counters.count("signature_lookup_not_found")
        // The account is ours but no tenant's token verifies: a forgery, or a token changed at Twilio only.
        return unchecked.length < candidates.length ? Option.some<Resolution>({ _tag: "BadSignature" }) : Option.none<Resolution>()
      })

    const steps = (call: WebhookCall): ReadonlyArray<Effect.Effect<Option.Option<Resolution>, DatabaseUnavailable>> => [
      ...(call.explicitTenant === undefined ? [] : [explicit(call, call.explicitTenant)]),
      ...(call.accountSid === undefined || call.number === undefined ? [] : [fromHint(call, call.accountSid, call.number)]),
      fromRoute(call),
      ...(call.accountSid === undefined ? [] : [fromAccount(call, call.accountSid)])
    ]

    const resolve = spannedIf(traced, "TenantResolution.resolve", Effect.fnUntraced(function*(call: WebhookCall) {
      yield* counters.count("requests_total")
      const outcome = yield* Effect.tapError(
        Effect.gen(function*() {
          for (const step of steps(call)) {
            const result = yield* step
            if (Option.isSome(result)) return result.value
          }
          // Nobody owns the number; a platform token still rejects forged requests.
          const unowned: Resolution = verifies(call, Option.map(platform.twilioAuthToken, Redacted.value))
            ? { _tag: "Unknown" }
            : { _tag: "BadSignature" }
          return unowned
        }),
        () => counters.count("failures_total")
      )
      yield* counters.count(outcome._tag === "Resolved" ? "successes_total" : "failures_total")
      return outcome
    }))

    return {
      resolve,
      resolveFromHintNow,
      /** The route of `number` (for SIP calls, whose tenant comes from the bearer). */
      route: (number: string, direction: PhoneNumberRouteDirection) => routes.lookup(number, direction)
    } as const
  })
}) {}
