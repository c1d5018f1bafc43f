import { Schema } from "effect"
import type { CallDirection, CallKey } from "../CallLogs/CallKey.js"

/** What a running call registers about itself: its ledger row and what the listings show. */
export interface LiveCall {
  readonly tenantId: string
  readonly streamSid: string
  readonly callSid: string | null
  readonly direction: CallDirection
  readonly from: string | null
  readonly to: string | null
  readonly agentVersionId: string | null
  readonly model: string
  readonly voice: string
  readonly startedAt: Date
  readonly agentName: string | null
  readonly greeting: string | null
  readonly orgId: string | null
}

/**
 * A call's live-call record, every field written in one literal: one hidden class for every
 * call. A spread of its key plus the rest made V8 a new map and descriptor array per call,
 * kept for the call's length (~0.4 KB per live call, bench/RESULTS.md).
 */
export const liveCallOf = (key: CallKey, details: Omit<LiveCall, keyof CallKey>): LiveCall => ({
  tenantId: key.tenantId,
  streamSid: key.streamSid,
  callSid: key.callSid,
  direction: key.direction,
  from: key.from,
  to: key.to,
  agentVersionId: key.agentVersionId,
  model: details.model,
  voice: details.voice,
  startedAt: details.startedAt,
  agentName: details.agentName,
  greeting: details.greeting,
  orgId: details.orgId
})

/** The caller's number: who called us, or whom we called. */
export const customerPhone = (call: Pick<LiveCall, "direction" | "from" | "to">): string | null =>
  call.direction === "inbound" ? call.from : call.to

// --- commands into a running call -----------------------------------------------------------
// Schemas, not just types: a command for a call held by another replica will travel as JSON
// (a NOTIFY on the owner's channel, its answer back the same way).

const Text = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(4_000))

/** End the call now, through its normal ending (the record is written once). */
export class End extends Schema.TaggedClass<End>()("End", { reason: Schema.String }) {}

/** Add a system message to the model's conversation, without asking it to respond. */
export class Inject extends Schema.TaggedClass<Inject>()("Inject", { text: Text }) {}

/** Have the agent say `text` (after whatever it is saying now). */
export class Say extends Schema.TaggedClass<Say>()("Say", { text: Text }) {}

/** The agent says `text` (its goodbye), then the call ends once the caller has heard it. */
export class Depart extends Schema.TaggedClass<Depart>()("Depart", { text: Text, reason: Schema.String }) {}

/** Dial `target` as a listen-only leg that hears the call (a supervisor's `monitor`), from the call's own replica. */
export class Listen extends Schema.TaggedClass<Listen>()("Listen", {
  target: Schema.String.pipe(Schema.maxLength(256)),
  supervisor: Schema.String.pipe(Schema.maxLength(256))
}) {}

export const CallCommand = Schema.Union(End, Inject, Say, Depart, Listen)
export type CallCommand = typeof CallCommand.Type

export class Applied extends Schema.TaggedClass<Applied>()("Applied", {}) {}

/** The call could not take the command (it is ending, the agent has not joined yet, ...). */
export class Refused extends Schema.TaggedClass<Refused>()("Refused", { reason: Schema.String }) {}

/** What the command needed (Twilio) failed or could not be reached: worth retrying. */
export class Unavailable extends Schema.TaggedClass<Unavailable>()("Unavailable", { reason: Schema.String }) {}

export const CommandResult = Schema.Union(Applied, Refused, Unavailable)
export type CommandResult = typeof CommandResult.Type

/**
 * The channel on which the replica `replicaId` will take commands for the calls it holds
 * (live-control routing: look the owner up in the ledger, NOTIFY here, await the answer).
 */
export const commandChannel = (replicaId: string): string => `live_calls_${replicaId.replaceAll("-", "")}`
