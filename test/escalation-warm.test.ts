import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Option } from "effect"
import { TenantCache } from "../src/TenantCache/TenantCache.js"
import { EscalateCall } from "../src/Tools/EscalateCall.js"
import { eventually, eventuallyHolds } from "./support/Eventually.js"
import { addedParticipants, createdCalls, lastTwimlOf, twilioCallback } from "./support/FakeTwilioCallbacks.js"
import { FakeTwilioServer, newCallSid } from "./support/FakeTwilioServer.js"
import { findAll, parseXml } from "./support/FakeTwilioXml.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import {
  CALLER,
  connectCall,
  DESK,
  escalatedEvents,
  incoming,
  logRow,
  NUMBER,
  promise,
  SID,
  Suite,
  TOKEN
} from "./support/EscalationSuite.js"

const SUPERVISOR = "+15550008555"

/** A live call with the agent that has greeted the caller. */
const liveCall = (streamSid: string) =>
  Effect.gen(function*() {
    const callSid = newCallSid()
    const parameters = yield* incoming(callSid)
    const call = yield* connectCall(callSid, parameters, streamSid)
    yield* promise(() => call.client.waitFor("the greeting", () => call.client.of("media").length >= 1))
    return { callSid, ...call }
  })

const form = (request: { readonly form: Record<string, string | Array<string>> }, name: string) => String(request.form[name])

layer(Suite, { excludeTestServices: true })("warm transfers and barge", (it) => {
  it.effect("warm: the person is called first, hears a summary, then the caller is moved into the same conference", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const call = yield* liveCall("MZwarm00000000000000000000000000001")
      const before = createdCalls(twilio).length
      call.upstream.callTool("escalate_call_to_human", { reason: "refund over limit", mode: "warm" })
      const [dialled] = yield* eventually(Effect.sync(() => createdCalls(twilio).slice(before)), (calls) => calls.length === 1)
      expect(form(dialled!, "To")).toBe(DESK)
      expect(form(dialled!, "From")).toBe(NUMBER)
      expect(form(dialled!, "Url")).toMatch(/^http:\/\/voice\.test\/twilio\/transfer-answered\?tenant=esc&transfer=/)
      expect(form(dialled!, "StatusCallback")).toMatch(/^http:\/\/voice\.test\/twilio\/transfer-result\?/)
      // The caller is still with the agent: its call's TwiML is untouched.
      expect(lastTwimlOf(twilio, call.callSid)).toBeUndefined()

      // The person answers: Twilio fetches the call's Url, which says the summary then redirects.
      const personSid = `CA${"5".repeat(32)}`
      const person = { AccountSid: SID, CallSid: personSid, From: NUMBER, To: DESK, CallStatus: "in-progress", Direction: "outbound-api" }
      const answered = yield* twilioCallback(form(dialled!, "Url"), TOKEN, person)
      expect(answered.status).toBe(200)
      const summary = parseXml(answered.text)
      expect(findAll(summary, "Say")[0]!.text).toContain("refund over limit")
      expect(findAll(summary, "Say")[0]!.text).toContain("Hello, how can I help?")
      const redirect = findAll(summary, "Redirect")[0]!.text
      expect(yield* escalatedEvents(call.callSid)).toHaveLength(0)

      // After the summary: the caller is redirected into the conference, the person joins it.
      const joined = yield* twilioCallback(redirect, TOKEN, person)
      expect(joined.status).toBe(200)
      const room = findAll(parseXml(joined.text), "Conference")[0]!.text
      expect(room).toMatch(/^transfer-[0-9a-f-]{36}$/)
      const moved = lastTwimlOf(twilio, call.callSid)!
      expect(findAll(moved, "Conference")[0]!.text).toBe(room)
      const events = yield* escalatedEvents(call.callSid)
      expect(events).toHaveLength(1)
      expectSpecSchema(events[0]!.payload.data, "WebhookEscalationPayload")
      expect(events[0]!.payload.data).toMatchObject({ target: DESK, initiated_by: "ai", from_number: CALLER })

      // The stream ends because the call was moved: recorded as an escalation, not hung up.
      call.client.stop()
      yield* promise(() => call.client.closed)
      const log = yield* eventually(logRow(call.callSid), (row) => row?.end_reason != null, 10_000)
      expect(log).toMatchObject({ escalated: true, status: "escalated", end_reason: "escalated" })
      expect(twilio.requests.some((r) => r.form.Status === "completed")).toBe(false)
      // Twilio repeating the join does not announce it twice.
      yield* twilioCallback(redirect, TOKEN, person)
      expect(yield* escalatedEvents(call.callSid)).toHaveLength(1)
    }))

  it.effect("warm, unanswered: the caller stays with the agent, which is told and offers a callback", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const call = yield* liveCall("MZwarm00000000000000000000000000002")
      const before = createdCalls(twilio).length
      call.upstream.callTool("escalate_call_to_human", { reason: "wants a manager", mode: "warm" })
      const [dialled] = yield* eventually(Effect.sync(() => createdCalls(twilio).slice(before)), (calls) => calls.length === 1)
      const status = yield* twilioCallback(form(dialled!, "StatusCallback"), TOKEN, {
        AccountSid: SID, CallSid: `CA${"6".repeat(32)}`, From: NUMBER, To: DESK, CallStatus: "no-answer", Direction: "outbound-api"
      })
      expect(status.status).toBe(200)
      const told = yield* eventually(
        Effect.sync(() => JSON.stringify(call.upstream.eventsOf("conversation.item.create"))),
        (items) => items.includes("was not answered (no-answer)")
      )
      expect(told).toContain("request_callback")
      yield* eventuallyHolds(
        Effect.sync(() => JSON.stringify(call.upstream.eventsOf("response.create"))),
        (creates) => creates.includes("nobody was available")
      )
      expect(lastTwimlOf(twilio, call.callSid)).toBeUndefined()
      call.client.stop()
      yield* promise(() => call.client.closed)
      const log = yield* eventually(logRow(call.callSid), (row) => row?.end_reason != null, 10_000)
      expect(log).toMatchObject({ escalated: false, status: "completed", end_reason: "stop" })
      expect(yield* escalatedEvents(call.callSid)).toHaveLength(0)
      const sql = yield* SqlClient.SqlClient
      const [transfer] = yield* sql<any>`select status, dial_call_status, mode from call_transfers
        where tenant_id = 'esc' and call_sid = ${call.callSid}`.pipe(Effect.orDie)
      expect(transfer).toEqual({ status: "unanswered", dial_call_status: "no-answer", mode: "warm" })
    }))

  it.effect("barge: the supervisor is added to a conference and the caller moved into it; the agent leaves", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const call = yield* liveCall("MZbarge0000000000000000000000000001")
      const tenant = Option.getOrThrow(yield* (yield* TenantCache).get("esc"))
      const result = yield* (yield* EscalateCall).barge({
        tenantId: "esc",
        config: tenant.config,
        callSid: call.callSid,
        streamSid: "MZbarge0000000000000000000000000001",
        target: SUPERVISOR,
        supervisor: "sam@acme.test"
      })
      expect(result.conference).toMatch(/^barge-/)
      const [added] = addedParticipants(twilio).filter((r) => r.path.includes(result.conference))
      expect(added!.path).toBe(`/2010-04-01/Accounts/${SID}/Conferences/${result.conference}/Participants.json`)
      expect([form(added!, "To"), form(added!, "From")]).toEqual([SUPERVISOR, NUMBER])
      const room = [...twilio.conferences.values()].find((r) => r.friendlyName === result.conference)!
      expect([...room.participants.keys()]).toEqual([result.participantCallSid])
      const moved = lastTwimlOf(twilio, call.callSid)!
      expect(findAll(moved, "Conference")[0]!.text).toBe(result.conference)
      // The participant was dialled before the caller was moved.
      const order = twilio.requests.map((r) => r.path)
      expect(order.lastIndexOf(added!.path)).toBeLessThan(order.lastIndexOf(`/2010-04-01/Accounts/${SID}/Calls/${call.callSid}.json`))
      const events = yield* escalatedEvents(call.callSid)
      expect(events.map((e) => e.payload.data)).toEqual([expect.objectContaining({ target: SUPERVISOR, initiated_by: "supervisor" })])
      expectSpecSchema(events[0]!.payload.data, "WebhookEscalationPayload")

      call.client.stop()
      yield* promise(() => call.client.closed)
      const log = yield* eventually(logRow(call.callSid), (row) => row?.end_reason != null, 10_000)
      expect(log).toMatchObject({ escalated: true, status: "escalated", end_reason: "escalated" })

      const bad = yield* Effect.flip((yield* EscalateCall).barge({
        tenantId: "esc", config: tenant.config, callSid: call.callSid, streamSid: null, target: "not-a-number", supervisor: "sam"
      }))
      expect(bad).toMatchObject({ status: 400 })
    }))
})
