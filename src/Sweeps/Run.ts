import { Effect, Either, Option } from "effect"
import type { TenantCache } from "../TenantCache/TenantCache.js"

export interface SweepOptions {
  /** At most this many tasks are handled. */
  readonly limit: number
  readonly emitWebhooks: boolean
  /** Only the tenant with this legacy auth token (the spec's `auth_token` parameter). */
  readonly authToken: string | null
}

export interface Candidate {
  readonly id: string
  readonly tenant_id: string
}

export interface Tally<Item> {
  readonly items: Array<Item>
  readonly failures: Array<{ readonly task_id: string; readonly tenant_id: string; readonly error: string }>
  readonly attemptedTenants: number
  readonly evaluatedTenants: number
}

/** The tenant an `auth_token` names: Some(id), Some(null) for every tenant, None for an unknown token. */
export const tenantScope = (cache: TenantCache, authToken: string | null) =>
  authToken === null
    ? Effect.succeed(Option.some<string | null>(null))
    : cache.findByAuthToken(authToken).pipe(
      Effect.map(Option.map((tenant): string | null => tenant.tenantId))
    )

const describe = (error: unknown) =>
  typeof error === "object" && error !== null && "message" in error && typeof error.message === "string"
    ? error.message
    : String(error)

/**
 * Handles each candidate on its own (one task's failure is reported, never stops the rest);
 * `handle` answers None when another replica got there first.
 */
export const eachCandidate = <Item, E, R>(
  candidates: ReadonlyArray<Candidate>,
  handle: (candidate: Candidate) => Effect.Effect<Option.Option<Item>, E, R>
) =>
  Effect.gen(function*() {
    const items: Array<Item> = []
    const failures: Tally<Item>["failures"] = []
    const evaluated = new Set<string>()
    for (const candidate of candidates) {
      const outcome = yield* Effect.either(handle(candidate))
      if (Either.isLeft(outcome)) {
        failures.push({ task_id: candidate.id, tenant_id: candidate.tenant_id, error: describe(outcome.left) })
      } else if (Option.isSome(outcome.right)) {
        evaluated.add(candidate.tenant_id)
        items.push(outcome.right.value)
      }
    }
    const tally: Tally<Item> = {
      items,
      failures,
      attemptedTenants: new Set(candidates.map((c) => c.tenant_id)).size,
      evaluatedTenants: evaluated.size
    }
    return tally
  })
