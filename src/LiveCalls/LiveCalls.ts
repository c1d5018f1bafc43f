import { Effect, type Exit, Schedule, Scope } from "effect"
import { InvalidStreamToken, type TokenUse } from "../Auth/StreamTokens.js"
import type { DatabaseUnavailable } from "../Database/Errors.js"
import { Migrations } from "../Database/Migrations.js"
import type { StatementPart } from "../Database/StatementParts.js"
import { readFirst, writeFirst as retryingWrite } from "../Media/FirstTry.js"
import { Ids } from "../Ids.js"
import { MediaConfig } from "../Media/MediaConfig.js"
import type { CallCommand, CommandResult, LiveCall } from "./Domain.js"
import { LiveCallNotFound } from "./Errors.js"
import { Refused } from "./Domain.js"
import type { CallHandle } from "./Mailbox.js"
import { makeReaper } from "./Reaper.js"
import { makeRedeemBatches } from "./RedeemBatches.js"
import { LiveCallsRepo } from "./Repo.js"


/** Applies one command to the call: at once, or (dialling a listen-only leg) through an effect. */
export type ApplyCommand = (command: CallCommand) => CommandResult | Effect.Effect<CommandResult>

/**
 * The running call behind a held entry: how a command reaches it and, optionally, its own
 * closing, run when the call leaves just before it stops taking commands (one step for both:
 * a finalizer per step was a scope entry and a closure per call).
 */
export interface CallOwner {
  apply(command: CallCommand): CommandResult | Effect.Effect<CommandResult>
  close?(exit: Exit.Exit<unknown, unknown>, holding: Holding): Effect.Effect<void>
  /**
   * The call's ledger row, made each time it is written (the insert, and the reaper's row if
   * the call was not recorded): kept for the call's length, the row and its Date were ~0.2 KB
   * per live call (bench/RESULTS.md).
   */
  ledgerRow(): LiveCall
}

/** What `hold` gives the call back: the two moments only the call itself knows. */
export interface Holding {
  /** Writes the ledger row (after the call has started what must not wait for the database). */
  readonly publish: Effect.Effect<void>
  /** The ledger row's delete, as a part of the call's record statement (CallRecords): it goes when the record commits. */
  readonly leaving: StatementPart
  /** The call's record (with `leaving`) is committed. Without this the row is left to be reaped. */
  readonly recorded: Effect.Effect<void>
}

/** A held call's way out: its owner's closing, then it leaves this replica (once). */
export interface Leaving {
  leave(exit: Exit.Exit<unknown, unknown>): Effect.Effect<void>
}

/**
 * Where a held call's way out is kept, set in the same step that registers the call: whoever
 * ends the call runs `leaving` (a call's closing: Media/CallClosing.ts), so the call needs no
 * scope, finalizer or closure of its own to leave.
 */
export interface Holder {
  leaving: Leaving | undefined
}

const ended = new Refused({ reason: "the call has ended" })

const logged = <A, E>(what: string, effect: Effect.Effect<A, E>) =>
  Effect.catchAllCause(Effect.asVoid(effect), (cause) => Effect.logWarning(`${what} failed`, cause))

/** What every held call of this replica shares (one object, not a closure per call). */
interface Ledger {
  readonly held: Map<string, HeldCall>
  readonly repo: LiveCallsRepo
  readonly replicaId: string
}

/**
 * A call running on this replica: what it registered, the way commands reach it and its way
 * out. One object with methods per call, where a closure per command handle, finalizer and
 * mark (each keeping the context it was made in) cost every call ~1.5 KB (bench/RESULTS.md).
 */
class HeldCall implements CallHandle, Holding, Leaving {
  /** Taking commands: false once the call has left. */
  private open = true
  private isRecorded = false

  constructor(
    private readonly ledger: Ledger,
    readonly tenantId: string,
    readonly streamSid: string,
    private readonly owner: CallOwner,
    /** The ledger row is still to be written (no stream token's use wrote it). */
    private readonly unpublished: boolean
  ) {}

  // Commands are applied right on the sender's fiber: `run` is synchronous (the bridge's
  // callbacks), so one command is applied at a time without a queue and a fiber per call
  // (that cost every call a fiber, a queue and a loop: call set-up under bursts).
  send(command: CallCommand): Effect.Effect<CommandResult> {
    return Effect.suspend(() => this.open ? this.apply(command) : Effect.succeed(ended))
  }

  get publish(): Effect.Effect<void> {
    return this.unpublished
      ? logged("live call insert", retryingWrite(this.ledger.repo.insert(this.owner.ledgerRow(), this.ledger.replicaId), "10 seconds"))
      : Effect.void
  }

  get leaving(): StatementPart {
    return this.ledger.repo.removalPart(this.tenantId, this.streamSid)
  }

  get recorded(): Effect.Effect<void> {
    return Effect.sync(() => {
      this.isRecorded = true
    })
  }

  /** The call ended: the owner's own closing (its record), then it leaves. */
  leave(exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> {
    // It leaves even if the owner's closing dies: a call kept here would take commands for ever.
    return this.owner.close === undefined ? this.release() : Effect.ensuring(this.owner.close(exit, this), Effect.suspend(() => this.release()))
  }

  /**
   * It stops taking commands and leaves this replica. Recorded, its
   * row went in the record's own statement (`leaving`). Otherwise the row must exist (its
   * insert may have failed while the call ran) so that a reaper records the call.
   */
  release(): Effect.Effect<void> {
    this.open = false
    this.ledger.held.delete(this.streamSid)
    return this.isRecorded
      ? Effect.void
      : Effect.logWarning("the call was not recorded; its live call row is left for the reaper").pipe(
        Effect.zipRight(logged(
          "live call insert for the reaper",
          retryingWrite(this.ledger.repo.insert(this.owner.ledgerRow(), this.ledger.replicaId), "60 seconds")
        ))
      )
  }

  private apply(command: CallCommand): Effect.Effect<CommandResult> {
    const result = this.owner.apply(command)
    return Effect.tap(Effect.isEffect(result) ? result : Effect.succeed(result), (result) =>
      Effect.logInfo("live call command").pipe(Effect.annotateLogs({
        stream_sid: this.streamSid,
        command: command._tag,
        ...(command._tag === "End" ? { reason: command.reason } : {}),
        result: result._tag === "Applied" ? "applied" : `refused: ${result.reason}`
      })))
  }
}

/**
 * The live calls: those this replica runs (by stream SID, each with a command handle into
 * the running call) and the cluster-wide ledger in PostgreSQL, which every replica reads
 * for the session listings. Each replica renews the heartbeat of the rows it holds with
 * one statement per interval and reaps rows whose heartbeat went stale.
 */
export class LiveCalls extends Effect.Service<LiveCalls>()("LiveCalls", {
  scoped: Effect.gen(function*() {
    const repo = yield* LiveCallsRepo
    const config = yield* MediaConfig
    const migrations = yield* Migrations
    /** Names this replica in the ledger; a command for one of its calls goes to `commandChannel(replicaId)`. */
    const replicaId = yield* (yield* Ids).uuid
    const held = new Map<string, HeldCall>()

    const reapStale = yield* makeReaper
    const reap = Effect.fn("LiveCalls.reap")(function*() {
      return yield* reapStale(config.reapAfterSeconds)
    })
    const beat = Effect.suspend(() => held.size === 0 ? Effect.void : repo.beat(replicaId, [...held.keys()]))
    const every = Schedule.spaced(`${config.heartbeatSeconds} seconds`)
    yield* migrations.awaitApplied.pipe(
      Effect.zipRight(Effect.all([
        Effect.repeat(logged("live call heartbeat", beat), every),
        Effect.repeat(logged("live call reaper", reap()), every)
      ], { concurrency: "unbounded", discard: true })),
      Effect.forkScoped
    )

    const ledger: Ledger = { held, repo, replicaId }
    // Stream starts' token spends share statements (group commit): one WAL flush per batch, not per call.
    const redeemBatches = yield* makeRedeemBatches((entries) => repo.insertRedeemingBatch(entries, replicaId))

    /**
     * Registers a running call until it leaves: `holder.leaving` is set in the step that
     * registers it, and whoever ends the call runs it. `owner.apply` applies one command to the
     * call, on the sender's fiber (the bridge's part is synchronous; a monitor's dial is an effect
     * of its own). Leaving runs the owner's `close` (if any), then the call stops taking commands
     * and leaves this replica; its ledger row is dropped only if the call was `recorded`:
     * otherwise the row stops being renewed and a reaper records the call as failed once it
     * goes stale.
     */
    const holdFor = (holder: Holder, owner: CallOwner, use?: TokenUse): Effect.Effect<Holding, InvalidStreamToken | DatabaseUnavailable> => {
      const call = owner.ledgerRow()
      // One synchronous step: nothing can interrupt between the registration and its way out.
      const register = Effect.sync(() => {
        const entry = new HeldCall(ledger, call.tenantId, call.streamSid, owner, use === undefined)
        holder.leaving = entry
        held.set(call.streamSid, entry)
        return entry
      })
      // With the stream token's use still to record, one statement records it and inserts the row
      // (with the other starts of its batch: RedeemBatches.ts) before the call is registered: a
      // replay is refused (and registers nothing), the row is then already published. Retried
      // through a database blink (the statement is idempotent for this call), like the call's
      // reads; past that the stream is refused.
      return use === undefined ? register : Effect.flatMap(
        readFirst(redeemBatches.redeem(call, use), "5 seconds"),
        (inserted) => inserted ? register : new InvalidStreamToken({ reason: "already used" })
      )
    }
    /** `holdFor` for the life of the current scope (translation legs, fixtures): its finalizer, in place first, lets the call leave. */
    const hold = (call: LiveCall, run: ApplyCommand, use?: TokenUse) =>
      Effect.flatMap(Effect.scope, (scope) => {
        const holder: Holder = { leaving: undefined }
        return Effect.zipRight(
          Scope.addFinalizerExit(scope, (exit) => holder.leaving === undefined ? Effect.void : holder.leaving.leave(exit)),
          holdFor(holder, { apply: run, ledgerRow: () => call }, use)
        )
      })

    /**
     * Sends `command` to a call this replica runs and waits for its answer. A call held by
     * another replica is not found here: that is where live-control routing will look the
     * owner up in the ledger (`replica_id`) and forward the command on its channel.
     */
    const command = Effect.fn("LiveCalls.command")(
      function*(streamSid: string, command: CallCommand, tenantId?: string) {
        const local = held.get(streamSid)
        if (local === undefined || (tenantId !== undefined && local.tenantId !== tenantId)) {
          return yield* new LiveCallNotFound({ streamSid })
        }
        return yield* local.send(command)
      }
    )

    return {
      replicaId,
      hold,
      /** Without a scope: the call leaves when its closing runs `holder.leaving` (a call's set-up: Media/Call.ts). */
      holdFor,
      command,
      /** Every replica's calls, oldest first: one tenant's, or all (`null`). */
      list: (tenantId: string | null) => repo.list(tenantId),
      /** A tenant's call on any replica. */
      find: repo.find,
      /** Which replica runs a tenant's call; `stale` once that replica has missed two heartbeats (or the reaper would take it). */
      locate: (tenantId: string, streamSid: string) =>
        repo.locate(tenantId, streamSid, Math.min(config.reapAfterSeconds, config.heartbeatSeconds * 2 + 1)),
      /** The stream of a live call, by its Twilio call SID (callbacks name calls, commands name streams). */
      streamOfCall: repo.streamOfCall,
      /** A supervisor watches the call (`monitor`): shown to every replica from the ledger. */
      markMonitored: repo.markMonitored,
      /** Shown in the listings from now on; a failure is logged (the transfer itself has happened). */
      markEscalated: (tenantId: string, streamSid: string, target: string) =>
        logged("live call escalation mark", repo.markEscalated(tenantId, streamSid, target)),
      /** How many of a tenant's calls this replica runs. */
      countForTenant: (tenantId: string) =>
        Effect.sync(() => {
          let count = 0
          for (const call of held.values()) if (call.tenantId === tenantId) count++
          return count
        }),
      /** How many calls this replica runs now (shutdown waits for none). */
      heldCount: Effect.sync(() => held.size),
      /** Sends `command` to every call this replica runs (shutdown: the goodbye, then the end). */
      broadcast: (command: CallCommand) =>
        Effect.forEach([...held.values()], (entry) => entry.send(command), { concurrency: "unbounded", discard: true }),
      /** One reaping pass now (what the background fiber repeats). */
      reap
    } as const
  }),
  dependencies: [LiveCallsRepo.Default, MediaConfig.Default, Ids.Default]
}) {}
