import { Chunk, Clock, Duration, Effect, Option, Queue, Schedule } from "effect"
import { AppConfig } from "../Config.js"
import type { CallSeen } from "../CallLogs/Writes.js"
import { Migrations } from "../Database/Migrations.js"
import { Lifecycle } from "../Health/Lifecycle.js"
import { Ids } from "../Ids.js"
import { LiveCalls } from "../LiveCalls/LiveCalls.js"
import { AheadRepo, type TakenReservation } from "./AheadRepo.js"
import type { EffectiveLimits } from "./Settings.js"

/** A tenant's reservations on this replica. */
interface Pool {
  readonly ids: Array<string>
  lastUsed: number
  /** How many this pool is topped up to: CALL_ADMISSIONS_AHEAD, doubled each time it ran dry, halved when quiet. */
  size: number
  /** A webhook found it empty since its last top-up: its calls are arriving faster than it refills. */
  ranDry: boolean
  /** Reservations taken since the last tend. */
  takenSinceTend: number
}

const newPool = (size: number): Pool => ({ ids: [], lastUsed: Date.now(), size, ranDry: false, takenSinceTend: 0 })

/** Retried webhooks (Twilio resends with the same CallSid) remembered per replica. */
const RECENT_CALLS = 4096
/** Taken reservations written per statement at most. */
const WRITE_BATCH = 128
/**
 * A taken reservation is written this long after the first of its batch: the write then stays
 * clear of the moments its calls' media streams upgrade and start (right after the answer), and
 * serves the calls answered meanwhile. Only the crash window (docs/limits.md) grows by as much.
 */
const WRITE_AFTER = "25 millis"
const writeRetry = Schedule.exponential("100 millis").pipe(
  Schedule.union(Schedule.spaced("2 seconds")),
  Schedule.intersect(Schedule.recurs(30))
)

/**
 * Admissions reserved ahead (docs/limits.md): per tenant taking calls, a few ordinary
 * `call_admissions` rows with no call SID, taken under the tenant's and the replica's advisory
 * locks like any admission, so every replica's `call_counts` counts them and the caps stay exact.
 * An inbound webhook whose tenant has one here takes it in plain code and is answered at once;
 * its SID and the call log's first sighting are written after the answer, several calls per
 * statement (written `WRITE_AFTER` after the first of them). A failed write is retried; the stream's `start` enters
 * the call in the ledger whatever happened to it. A pool starts at CALL_ADMISSIONS_AHEAD and doubles (up to
 * CALL_ADMISSIONS_AHEAD_MAX) each time calls outrun its top-up, so a burst is served by a few reserving statements
 * a second rather than an admission statement per call; it halves again once quiet. Reservations are only taken while the tenant
 * (and the replica) is at or below half its cap, are renewed before CALL_ADMISSION_TTL_SECS ends
 * them, and given back when the tenant is quiet here or the replica drains or stops. After a crash
 * they count against the tenant's cap until the TTL ends them.
 */
export class AdmissionsAhead extends Effect.Service<AdmissionsAhead>()("AdmissionsAhead", {
  scoped: Effect.gen(function*() {
    const config = yield* AppConfig
    const repo = yield* AheadRepo
    const ids = yield* Ids
    const { replicaId } = yield* LiveCalls
    const lifecycle = yield* Lifecycle
    const migrations = yield* Migrations
    const ahead = config.callAdmissionsAhead
    const mostAhead = Math.max(ahead, config.callAdmissionsAheadMax)
    const ttlMs = config.callAdmissionTtlSecs * 1000
    const idleMs = config.callAdmissionsAheadIdleSecs * 1000
    // Renewed at a third of the TTL: two renewals may fail before one expires.
    const renewEveryMs = Math.max(1000, Math.floor(ttlMs / 3))

    const pools = new Map<string, Pool>()
    const recent = new Map<string, string>()
    const writes = yield* Queue.unbounded<TakenReservation>()
    /** Tenants whose pool wants topping up, with the limits their last call was checked against. */
    const wanted = new Map<string, EffectiveLimits>()
    const topUps = yield* Queue.unbounded<string>()
    let writing = 0
    let released = false
    // False from a failed background statement until one succeeds: in a database outage the
    // webhook takes its statement's path (and its apology) instead of connecting calls whose
    // admission cannot be written.
    let databaseOk = true
    const outcome = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      effect.pipe(Effect.tapBoth({
        onFailure: () => Effect.sync(() => void (databaseOk = false)),
        onSuccess: () => Effect.sync(() => void (databaseOk = true))
      }))

    const remember = (tenantId: string, callSid: string) => {
      recent.set(callSid, tenantId)
      if (recent.size > RECENT_CALLS) recent.delete(recent.keys().next().value!)
    }

    const wantTopUp = (tenantId: string, limits: EffectiveLimits) => {
      if (!wanted.has(tenantId)) Queue.unsafeOffer(topUps, tenantId)
      wanted.set(tenantId, limits)
    }

    /**
     * True when the call is admitted here without a statement: this replica answered the same
     * CallSid before from a reservation (a retried webhook), or it takes one of the tenant's
     * reservations now (its SID and sighting are then written in the background). Plain code.
     */
    const take = (seen: CallSeen, recordSighting: boolean, limits: EffectiveLimits): boolean => {
      if (ahead === 0 || !databaseOk || lifecycle.drainingNow()) return false
      if (recent.get(seen.callSid) === seen.tenantId) return true
      const pool = pools.get(seen.tenantId)
      if (pool === undefined) return false
      const id = pool.ids.pop()
      if (id === undefined) {
        pool.ranDry = true
        return false
      }
      pool.lastUsed = Date.now()
      pool.takenSinceTend++
      remember(seen.tenantId, seen.callSid)
      Queue.unsafeOffer(writes, { id, seen, recordSighting, logId: ids.nextUuid() })
      // Topped up once half are used: one reserving statement (its lock and counts, an
      // admission's cost) then serves several calls instead of one per call.
      if (pool.ids.length <= pool.size / 2) wantTopUp(seen.tenantId, limits)
      return true
    }

    /** A call of the tenant was admitted by a statement: it takes calls, so reservations may help its next ones. */
    const admitted = (tenantId: string, limits: EffectiveLimits) => {
      if (ahead === 0 || lifecycle.drainingNow()) return
      const pool = pools.get(tenantId)
      if (pool !== undefined) pool.lastUsed = Date.now()
      wantTopUp(tenantId, limits)
    }

    const release = (held: ReadonlyArray<string>) =>
      held.length === 0
        ? Effect.void
        : repo.release(held).pipe(Effect.catchAll((error) => Effect.logWarning("could not release reserved admissions", error)))

    /**
     * One tenant's top-up. Its `wanted` entry stays until the statement is done, so the calls that
     * take reservations meanwhile queue no second one; if they brought the pool to half again, or
     * found it empty, the next follows at once (one statement in flight per tenant, each reserving
     * what the pool lacks; one that follows a dry pool doubles it first).
     */
    const topUp = (tenantId: string) => {
      let refilled = false
      return Effect.gen(function*() {
        const limits = wanted.get(tenantId)
        const pool = pools.get(tenantId) ?? newPool(ahead)
        // Calls outran the last top-up (a burst): reserve twice as many from now on, so a few
        // statements a second serve the burst instead of one admission statement per call.
        if (pool.ranDry) pool.size = Math.min(mostAhead, pool.size * 2)
        pool.ranDry = false
        const want = pool.size - pool.ids.length
        if (limits === undefined || want <= 0 || lifecycle.drainingNow()) return
        const now = yield* Clock.currentTimeMillis
        const reserved = yield* outcome(repo.reserve({
          ids: Array.from({ length: want }, () => ids.nextUuid()),
          tenantId,
          replicaId,
          at: new Date(now),
          cutoff: new Date(now - ttlMs),
          tenantRoom: Math.floor(limits.maxConcurrentCalls / 2),
          replicaRoom: Math.floor(limits.maxCallsPerReplica / 2)
        }))
        // Drained while the statement ran: give them back at once.
        if (lifecycle.drainingNow()) return yield* release(reserved)
        if (reserved.length === 0) return
        pool.ids.push(...reserved)
        pools.set(tenantId, pool)
        refilled = true
      }).pipe(
        Effect.catchAll((error) => Effect.logWarning("could not reserve admissions ahead", error)),
        Effect.ensuring(Effect.sync(() => {
          const limits = wanted.get(tenantId)
          wanted.delete(tenantId)
          const pool = pools.get(tenantId)
          // Calls took from it while the statement ran (to half again), or found it empty (it must grow): next one now.
          if (refilled && limits !== undefined && pool !== undefined && (pool.ranDry || pool.ids.length <= pool.size / 2)) {
            wantTopUp(tenantId, limits)
          }
        }))
      )
    }

    const writeTaken = (batch: ReadonlyArray<TakenReservation>) =>
      outcome(repo.taken(replicaId, batch)).pipe(
        Effect.retry(writeRetry),
        Effect.catchAll((error) =>
          Effect.logError("could not record calls admitted from reservations; their streams' start will", error).pipe(
            Effect.annotateLogs("call_sids", batch.map((t) => t.seen.callSid).join(","))
          ))
      )

    const writeNext = Effect.flatMap(Queue.take(writes), (first) => {
      // Counted from here: the layer's finalizer waits for it through the pause too.
      writing++
      unsettled = true
      return Effect.sleep(WRITE_AFTER).pipe(
        Effect.zipRight(Queue.takeUpTo(writes, WRITE_BATCH - 1)),
        Effect.flatMap((rest) => writeTaken([first, ...Chunk.toReadonlyArray(rest)])),
        Effect.ensuring(Effect.sync(() => void writing--))
      )
    })

    /** Every reservation this replica holds, taken out of the pools (no webhook can take them then). */
    const takeAllHeld = (which: (pool: Pool) => boolean) => {
      const held: Array<string> = []
      for (const [tenantId, pool] of pools) {
        if (!which(pool)) continue
        pools.delete(tenantId)
        // Emptied too: a top-up still holding this pool must not put them back.
        held.push(...pool.ids.splice(0))
      }
      return held
    }

    /** Renews what the pools hold; what could not be renewed (expired, gone) leaves them. */
    const renew = Effect.gen(function*() {
      const held = Array.from(pools.values()).flatMap((pool) => pool.ids)
      if (held.length === 0) return
      const now = yield* Clock.currentTimeMillis
      const kept = new Set(yield* outcome(repo.renew(held, new Date(now), new Date(now - ttlMs))))
      const lost = new Set(held.filter((id) => !kept.has(id)))
      if (lost.size === 0) return
      for (const pool of pools.values()) {
        const left = pool.ids.filter((id) => !lost.has(id))
        pool.ids.splice(0, pool.ids.length, ...left)
      }
    }).pipe(Effect.catchAll((error) => Effect.logWarning("could not renew reserved admissions", error)))

    // A write since the last settle: its calls' starts may have raced it (settle_replica_admissions).
    let unsettled = false
    const settle = Effect.suspend(() => {
      if (!unsettled || writing > 0) return Effect.void
      unsettled = false
      return repo.settle(replicaId).pipe(Effect.catchAll((error) => Effect.logWarning("could not settle admissions", error)))
    })

    /**
     * A pool that used under a quarter of its size in the last second halves it (not below
     * CALL_ADMISSIONS_AHEAD) and gives back what it holds beyond: after a burst its tenant's
     * slots are not held longer than its calls need them.
     */
    const shrinkQuiet = () => {
      const surplus: Array<string> = []
      for (const pool of pools.values()) {
        if (pool.size > ahead && pool.takenSinceTend < pool.size / 4 && !pool.ranDry) {
          pool.size = Math.max(ahead, Math.floor(pool.size / 2))
        }
        // Also what a top-up in flight at the last halving pushed beyond the size.
        if (pool.ids.length > pool.size) surplus.push(...pool.ids.splice(pool.size))
        pool.takenSinceTend = 0
      }
      return surplus
    }

    let lastRenew = Date.now()
    /** Once a second: give back on draining, for quiet tenants and beyond a shrunk pool's size; renew when due. */
    const tend = Effect.suspend(() => {
      const now = Date.now()
      if (lifecycle.drainingNow()) {
        if (released) return Effect.void
        released = true
        return release(takeAllHeld(() => true))
      }
      const quiet = Effect.zipRight(release([...takeAllHeld((pool) => now - pool.lastUsed > idleMs), ...shrinkQuiet()]), settle)
      if (now - lastRenew < renewEveryMs) return quiet
      lastRenew = now
      return Effect.zipRight(quiet, renew)
    })

    if (ahead > 0) {
      yield* migrations.awaitApplied.pipe(
        Effect.zipRight(Effect.all([
          Effect.forever(writeNext),
          Effect.forever(Effect.flatMap(Queue.take(topUps), topUp)),
          Effect.repeat(tend, Schedule.spaced("1 second"))
        ], { concurrency: "unbounded", discard: true })),
        Effect.forkScoped
      )
      // Runs before the fibers above are interrupted (finalizers run in reverse): the calls
      // answered are written, then the reservations left are given back.
      yield* Effect.addFinalizer(() =>
        Effect.suspend(() => Option.getOrElse(writes.unsafeSize(), () => 0) + writing > 0
          ? Effect.fail("writing" as const)
          : Effect.void).pipe(
          Effect.retry(Schedule.spaced("20 millis")),
          Effect.timeout(Duration.seconds(5)),
          Effect.ignore,
          Effect.zipRight(Effect.suspend(() => release(takeAllHeld(() => true))))
        )
      )
    }

    return {
      take,
      admitted,
      /** Reservations held here now, per tenant (tests, diagnostics). */
      held: (tenantId: string): number => pools.get(tenantId)?.ids.length ?? 0
    } as const
  }),
  dependencies: [AheadRepo.Default]
}) {}
