import { Effect } from "effect"
import { type LiveCall, Refused } from "../../src/LiveCalls/Domain.js"
import { LiveCalls } from "../../src/LiveCalls/LiveCalls.js"

/**
 * A live call with no media behind it, held by the test server (and in its ledger) for the
 * current scope: for what lists or marks live calls. Commands to it are refused.
 */
export const holdLiveCall = (call: Partial<LiveCall> & Pick<LiveCall, "tenantId" | "streamSid">) =>
  Effect.gen(function*() {
    const liveCalls = yield* LiveCalls
    const holding = yield* liveCalls.hold({
      callSid: null,
      direction: "inbound",
      from: null,
      to: null,
      agentVersionId: null,
      model: "gpt-realtime",
      voice: "alloy",
      startedAt: new Date(),
      agentName: null,
      greeting: null,
      orgId: null,
      ...call
    }, () => new Refused({ reason: "a test call has no media" }))
    yield* holding.publish
    // Nothing to record: the row goes with the scope.
    yield* holding.recorded
  })

/** A live call of `tenantId` with its stream and call named after `name` (`MZ-name`, `CA-name`). */
export const namedLiveCall = (tenantId: string, name: string, startedAt = new Date()): LiveCall => ({
  tenantId,
  streamSid: `MZ-${name}`,
  callSid: `CA-${name}`,
  direction: "inbound",
  from: "+15550001111",
  to: "+15550002222",
  agentVersionId: null,
  model: "gpt-realtime",
  voice: "alloy",
  startedAt,
  agentName: null,
  greeting: null,
  orgId: null
})
