import * as SqlClient from "@effect/sql/SqlClient"
import { Clock, Effect, Either, Option, Schedule } from "effect"
import { AppConfig } from "../Config.js"
import type { CallSeen } from "../CallLogs/Writes.js"
import { orRefused, orUnavailable } from "../Database/Errors.js"
import { Migrations } from "../Database/Migrations.js"
import { Ids } from "../Ids.js"
import { LiveCalls } from "../LiveCalls/LiveCalls.js"
import type { TenantConfig } from "../Tenants/Config.js"
import { Budgets } from "./Budgets.js"
import { destinationRefusal } from "./Destinations.js"
import { type LimitRefused, refused } from "./Errors.js"
import { Refusals } from "./Refusals.js"
import { LimitsRepo } from "./Repo.js"
import { type EffectiveLimits, effectiveLimits } from "./Settings.js"
import { dayStart, minuteStart, usageView } from "./Usage.js"
import { fnSpanned } from "../Observability/Spans.js"

export interface LimitedTenant {
  readonly tenantId: string
  readonly config: TenantConfig
}

/** Work a limit may refuse: outbound calls and SMS to `destinations`, or one inbound call. */
export type Work =
  | { readonly kind: "outbound_call" | "sms"; readonly destinations: ReadonlyArray<string>; readonly from?: string }
  | InboundWork

export interface InboundWork {
  readonly kind: "inbound_call"
  readonly callSid: string
  readonly from: string | null
}

/**
 * The one gate for work that costs money (docs/limits.md). Every path that dials or texts
 * calls `admit` first: make-call, translation legs, auto-dispatch (through OutboundCalls),
 * and future SMS, agent tools and automations. A call admission counts against the
 * concurrency caps until the live-call ledger shows the call (`attach` its SID; `release`
 * it if the dial failed). Checks run in one transaction holding a per-tenant advisory
 * lock and, for the per-replica cap, a per-replica one (taken in that order everywhere), so a
 * cap holds exactly across replicas under concurrent requests. An inbound call with no monthly
 * budget to check is admitted in one statement (`admit_inbound_call`, migration 0020): it is
 * on the webhook's critical path, where a six-round-trip transaction serialised per replica
 * was what a burst of calls queued behind (bench/RESULTS.md).
 */
export class Limits extends Effect.Service<Limits>()("Limits", {
  scoped: Effect.gen(function*() {
    const platform = yield* AppConfig
    const sql = yield* SqlClient.SqlClient
    const repo = yield* LimitsRepo
    const ids = yield* Ids
    const { replicaId } = yield* LiveCalls
    const budgets = yield* Budgets
    const refusals = yield* Refusals
    const ttlMs = platform.callAdmissionTtlSecs * 1000

    yield* (yield* Migrations).awaitApplied.pipe(
      Effect.zipRight(Effect.flatMap(Clock.currentTimeMillis, (now) =>
        repo.prune(new Date(now - 2 * ttlMs), new Date(now - 2 * 86_400_000))).pipe(
        Effect.ignore,
        Effect.repeat(Schedule.spaced("1 minute"))
      )),
      Effect.forkScoped
    )

    /** The checks, in order; a refusal is returned (not failed) so the notices written commit. */
    const decide = (tenant: LimitedTenant, work: Work, at: Date) =>
      Effect.gen(function*() {
        const limits = effectiveLimits(tenant.config, platform)
        const calls = work.kind === "sms" ? 0 : work.kind === "inbound_call" ? 1 : work.destinations.length
        yield* repo.lockTenant(tenant.tenantId)
        if (work.kind !== "sms") yield* repo.lockReplica(replicaId)
        if (work.kind === "inbound_call") {
          const again = yield* repo.admittedCall(tenant.tenantId, work.callSid)
          if (again.length > 0) return Either.right(again)
        }
        if (work.kind !== "sms") {
          const exhausted = yield* budgets.exhausted(tenant.tenantId, limits, at)
          if (exhausted && (work.kind === "outbound_call" || limits.inboundOverBudget !== "answer")) {
            return Either.left(refused("budget_exhausted",
              `The monthly budget of ${limits.monthlyCallMinutes} call minutes is spent; it renews on the 1st (UTC)`))
          }
          const counts = yield* repo.callCounts(tenant.tenantId, replicaId, new Date(at.getTime() - ttlMs))
          if (counts.tenant + calls > limits.maxConcurrentCalls) {
            return Either.left(refused("tenant_concurrency",
              `The tenant already has ${counts.tenant} of at most ${limits.maxConcurrentCalls} concurrent calls`))
          }
          if (counts.replica + calls > limits.maxCallsPerReplica) {
            return Either.left(refused("replica_concurrency", "This server is at its call capacity; try again shortly"))
          }
        }
        if (work.kind !== "inbound_call") {
          const n = work.destinations.length
          const [perMinute, perDay, noun] = work.kind === "sms"
            ? [limits.smsPerMinute, limits.smsPerDay, "sms"]
            : [limits.outboundCallsPerMinute, limits.outboundCallsPerDay, "calls"]
          const minute = minuteStart(at)
          const day = dayStart(at)
          if ((yield* repo.hits(tenant.tenantId, `${noun}_minute`, minute)) + n > perMinute) {
            return Either.left(
              refused("velocity_per_minute", `At most ${perMinute} outbound ${noun} a minute; try again shortly`)
            )
          }
          if ((yield* repo.hits(tenant.tenantId, `${noun}_day`, day)) + n > perDay) {
            return Either.left(refused("velocity_per_day", `At most ${perDay} outbound ${noun} a day (UTC); try again tomorrow`))
          }
          yield* repo.bump(tenant.tenantId, `${noun}_minute`, minute, n)
          yield* repo.bump(tenant.tenantId, `${noun}_day`, day, n)
        }
        const admitted: Array<string> = []
        for (let i = 0; i < calls; i++) {
          const id = yield* ids.uuid
          const direction = work.kind === "inbound_call" ? "inbound" : "outbound"
          yield* repo.admit(id, tenant.tenantId, replicaId, direction, work.kind === "inbound_call" ? work.callSid : null, at)
          admitted.push(id)
        }
        return Either.right(admitted)
      })

    /** What the one-statement admission answered, as `decide` answers. */
    const inboundDecision = (
      result: { readonly admitted: ReadonlyArray<string> | null; readonly refusal: string | null; readonly tenant_calls: number | null },
      limits: EffectiveLimits
    ): Either.Either<ReadonlyArray<string>, LimitRefused> => {
      if (result.refusal === "tenant_concurrency") {
        return Either.left(refused("tenant_concurrency",
          `The tenant already has ${result.tenant_calls} of at most ${limits.maxConcurrentCalls} concurrent calls`))
      }
      if (result.refusal !== null) {
        return Either.left(
          refused("replica_concurrency", "This server is at its call capacity; try again shortly")
        )
      }
      return Either.right(result.admitted ?? [])
    }

    /**
     * `decide` for one inbound call when no budget applies, as one statement; with `seen`, the
     * same statement records the call log's first sighting when it lets the call through.
     */
    const admitInbound = (tenant: LimitedTenant, callSid: string, limits: EffectiveLimits, at: Date, seen?: CallSeen) => {
      const input = {
        id: ids.nextUuid(),
        tenantId: tenant.tenantId,
        replicaId,
        callSid,
        at,
        cutoff: new Date(at.getTime() - ttlMs),
        maxTenant: limits.maxConcurrentCalls,
        maxReplica: limits.maxCallsPerReplica
      }
      const statement = seen === undefined ? repo.admitInbound(input) : repo.admitInboundSeen(input, ids.nextUuid(), seen)
      return Effect.map(statement, (result) => inboundDecision(result, limits))
    }

    /** Admission ids (one per call; none for SMS), or the refusal (already counted and logged). */
    const admit = Effect.fn("Limits.admit")(function*(tenant: LimitedTenant, work: Work) {
      const at = new Date(yield* Clock.currentTimeMillis)
      const limits = effectiveLimits(tenant.config, platform, work.kind === "inbound_call" ? undefined : work.from)
      const destinations = work.kind === "inbound_call" ? [] : work.destinations
      const outcome = Option.match(
        Option.firstSomeOf(destinations.map((to) => destinationRefusal(to, limits))),
        { onSome: (refusal) => Effect.succeed(Either.left<LimitRefused>(refusal)), onNone: () =>
          work.kind === "inbound_call" && limits.monthlyCallMinutes === null
            ? orUnavailable(admitInbound(tenant, work.callSid, limits, at))
            : orUnavailable(sql.withTransaction(decide(tenant, work, at))) }
      )
      return yield* conclude(tenant, work, yield* outcome)
    })

    /** The admission ids, or the refusal counted, logged and failed with. */
    const conclude = (tenant: LimitedTenant, work: Work, decided: Either.Either<ReadonlyArray<string>, LimitRefused>) =>
      Either.match(decided, {
        onRight: Effect.succeed,
        onLeft: (refusal) =>
          refusals.note(tenant.tenantId, work.kind, refusal, {
            callSid: work.kind === "inbound_call" ? work.callSid : null,
            target: work.kind === "inbound_call" ? work.from : work.destinations.join(",")
          }).pipe(Effect.zipRight(Effect.fail(refusal)))
      })

    /**
     * `admit` for an inbound call that, when it lets the call through, also records the call
     * log's first sighting (`seen`, migrations/0028) in the admission's own statement (or its
     * transaction, with a budget to check): the webhook's one round trip instead of two.
     */
    const admitSeen = fnSpanned("Limits.admitSeen")(function*(tenant: LimitedTenant, work: InboundWork, seen: CallSeen) {
      const limits = effectiveLimits(tenant.config, platform)
      const decided = yield* limits.monthlyCallMinutes === null
        ? orRefused(admitInbound(tenant, work.callSid, limits, seen.at, seen))
        : orRefused(sql.withTransaction(decide(tenant, work, seen.at).pipe(
          Effect.tap((decision) =>
            Either.isRight(decision) ? Effect.flatMap(ids.uuid, (logId) => repo.callLogSeen(logId, seen)) : Effect.void
          )
        )))
      return yield* conclude(tenant, work, decided)
    })

    /**
     * `admitSeen` as plain code around its one statement when no budget applies (the webhook's
     * common case, no span exported): the same statement, refusal notes and errors, with the
     * refusal returned rather than failed. Undefined when a budget applies: then `admitSeen`.
     */
    const admitSeenNow = (tenant: LimitedTenant, work: InboundWork, seen: CallSeen) => {
      const limits = effectiveLimits(tenant.config, platform)
      if (limits.monthlyCallMinutes !== null) return undefined
      return Effect.flatMap(orRefused(admitInbound(tenant, work.callSid, limits, seen.at, seen)), (decided) =>
        Either.isRight(decided)
          ? Effect.succeedNone
          : Effect.as(
            refusals.note(tenant.tenantId, work.kind, decided.left, { callSid: work.callSid, target: work.from }),
            Option.some(decided.left)
          ))
    }

    /**
     * The destination policy alone, for a leg of a call already admitted (an agent's transfer to
     * a number the tenant configured). With no home country known only premium and satellite apply.
     */
    const destination = Effect.fn("Limits.destination")(function*(tenant: LimitedTenant, to: string, callSid: string) {
      const limits = effectiveLimits(tenant.config, platform)
      const policy = limits.allowedCountryCodes.length === 0 ? { ...limits, allowedCountryCodes: ["*"] } : limits
      const refusal = destinationRefusal(to, policy)
      if (Option.isNone(refusal)) return
      yield* refusals.note(tenant.tenantId, "outbound_call", refusal.value, { callSid, target: to })
      return yield* refusal.value
    })

    return {
      admit,
      admitSeen,
      admitSeenNow,
      destination,
      /** The call's SID, once Twilio gave one: the admission then ends when the ledger or call log shows it. */
      attach: (tenantId: string, id: string, callSid: string) => orUnavailable(repo.attach(tenantId, id, callSid)),
      /** The dial did not happen: the slot is free again. */
      release: (tenantId: string, id: string) => orUnavailable(repo.release(tenantId, id)),
      usage: (tenant: LimitedTenant) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          orUnavailable(
            usageView(repo, replicaId, effectiveLimits(tenant.config, platform), tenant.tenantId, new Date(now), ttlMs)
          ))
    } as const
  }),
  dependencies: [LimitsRepo.Default, Budgets.Default, Refusals.Default]
}) {}
