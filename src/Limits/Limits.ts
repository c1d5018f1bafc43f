import * as SqlClient from "@effect/sql/SqlClient"
import { Clock, Effect, Either, Option, Schedule } from "effect"
import { AppConfig } from "../Config.js"
import type { CallSeen } from "../CallLogs/Writes.js"
import { orRefused, orUnavailable } from "../Database/Errors.js"
import { Migrations } from "../Database/Migrations.js"
import { Ids } from "../Ids.js"
import { LiveCalls } from "../LiveCalls/LiveCalls.js"
import type { TenantConfig } from "../Tenants/Config.js"
import { AdmissionsAhead } from "./AdmissionsAhead.js"
import { Budgets } from "./Budgets.js"
import { destinationRefusal } from "./Destinations.js"
import { type LimitRefused, refused } from "./Errors.js"
import { Refusals } from "./Refusals.js"
import { LimitsRepo } from "./Repo.js"
import { type EffectiveLimits, effectiveLimits } from "./Settings.js"
import { dayStart, minuteStart, usageView } from "./Usage.js"
import { spannedIf, spansExported } from "../Observability/Spans.js"

export interface LimitedTenant {
  readonly tenantId: string
  readonly config: TenantConfig
}

/** Outbound calls and SMS to `destinations`: what `admit` takes. */
export interface OutboundWork {
  readonly kind: "outbound_call" | "sms"
  readonly destinations: ReadonlyArray<string>
  readonly from?: string
}

/** Work a limit may refuse: outbound calls and SMS, or one inbound call (`admitInbound`). */
export type Work = OutboundWork | InboundWork

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
 * cap holds exactly across replicas under concurrent requests. An inbound call is admitted by
 * `admitInbound`; with no monthly budget to check, in one statement (`admit_inbound_call`,
 * migration 0020): it is on the webhook's critical path, where a six-round-trip transaction
 * serialised per replica was what a burst of calls queued behind (bench/RESULTS.md). With no
 * budget, and a reservation for the tenant on this replica, not even that: the call takes one
 * (AdmissionsAhead) and its admission is written after the answer.
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
    const ahead = yield* AdmissionsAhead
    const traced = yield* spansExported
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
     * `decide` for one inbound call when no budget applies, as one statement; with
     * `recordSighting`, the same statement records the call log's first sighting when it lets
     * the call through.
     */
    const inboundStatement = (tenant: LimitedTenant, seen: CallSeen, recordSighting: boolean, limits: EffectiveLimits) => {
      const input = {
        id: ids.nextUuid(),
        tenantId: tenant.tenantId,
        replicaId,
        callSid: seen.callSid,
        at: seen.at,
        cutoff: new Date(seen.at.getTime() - ttlMs),
        maxTenant: limits.maxConcurrentCalls,
        maxReplica: limits.maxCallsPerReplica
      }
      const statement = recordSighting ? repo.admitInboundSeen(input, ids.nextUuid(), seen) : repo.admitInbound(input)
      return Effect.map(statement, (result) => inboundDecision(result, limits))
    }

    /** `decide` in its transaction (a budget to check), recording the sighting there when the call is let through. */
    const inboundTransaction = (tenant: LimitedTenant, work: InboundWork, seen: CallSeen, recordSighting: boolean) =>
      sql.withTransaction(decide(tenant, work, seen.at).pipe(
        Effect.tap((decision) =>
          recordSighting && Either.isRight(decision)
            ? Effect.flatMap(ids.uuid, (logId) => repo.callLogSeen(logId, seen))
            : Effect.void
        )
      ))

    /** What a refusal leaves behind (metric, log line, supervisor log row), once per refusal. */
    const note = (tenant: LimitedTenant, work: Work, refusal: LimitRefused) =>
      refusals.note(tenant.tenantId, work.kind, refusal, {
        callSid: work.kind === "inbound_call" ? work.callSid : null,
        target: work.kind === "inbound_call" ? work.from : work.destinations.join(",")
      })

    /** Admission ids (one per call; none for SMS), or the refusal (already counted and logged). */
    const admit = Effect.fn("Limits.admit")(function*(tenant: LimitedTenant, work: OutboundWork) {
      const at = new Date(yield* Clock.currentTimeMillis)
      const limits = effectiveLimits(tenant.config, platform, work.from)
      const refusal = Option.firstSomeOf(work.destinations.map((to) => destinationRefusal(to, limits)))
      const decided = Option.isSome(refusal)
        ? Either.left(refusal.value)
        : yield* orUnavailable(sql.withTransaction(decide(tenant, work, at)))
      if (Either.isRight(decided)) return decided.right
      yield* note(tenant, work, decided.left)
      return yield* decided.left
    })

    /**
     * One inbound call (`seen`, its first sighting) against the caps, and the monthly budget when
     * the tenant has one: None lets it through (it then counts until it ends), Some is the refusal,
     * already counted and logged. With `recordSighting` a call let through also has its sighting
     * recorded by the admission's own statement (or transaction): the webhook's one round trip.
     * The one path for every inbound call, with or without an exporter; combinators rather than a
     * generator, and its span only when spans are exported (`spannedIf`): it runs on every call.
     */
    const admitInbound = spannedIf(
      traced,
      "Limits.admitInbound",
      (tenant: LimitedTenant, seen: CallSeen, recordSighting: boolean) => {
        const work: InboundWork = { kind: "inbound_call", callSid: seen.callSid, from: seen.from }
        const limits = effectiveLimits(tenant.config, platform)
        const unbudgeted = limits.monthlyCallMinutes === null
        // A reservation (or this replica's earlier answer to the same call) admits it with no statement.
        if (unbudgeted && ahead.take(seen, recordSighting, limits)) return Effect.succeedNone
        const decided = unbudgeted
          ? inboundStatement(tenant, seen, recordSighting, limits)
          : inboundTransaction(tenant, work, seen, recordSighting)
        return Effect.flatMap(orRefused(decided), (decision) => {
          if (Either.isLeft(decision)) return Effect.as(note(tenant, work, decision.left), Option.some(decision.left))
          if (unbudgeted) ahead.admitted(tenant.tenantId, limits)
          return Effect.succeedNone
        })
      }
    )

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
      admitInbound,
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
  dependencies: [LimitsRepo.Default, Budgets.Default, Refusals.Default, AdmissionsAhead.Default]
}) {}
