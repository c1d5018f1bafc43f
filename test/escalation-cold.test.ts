import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { eventually } from "./support/Eventually.js"
import { dialOutcome, lastTwimlOf, twilioCallback } from "./support/FakeTwilioCallbacks.js"
import { FakeTwilioServer, newCallSid } from "./support/FakeTwilioServer.js"
import { findAll, parseXml, streamParameters } from "./support/FakeTwilioXml.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { request } from "./support/TestServer.js"
import {
  auth,
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
  TOKEN,
  toolAnswered
} from "./support/EscalationSuite.js"

layer(Suite, { excludeTestServices: true })("cold transfers", (it) => {
  it.effect("nobody answers: the caller is back with the agent on a new stream of the same call, told to offer a callback", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const callSid = newCallSid()
      const parameters = yield* incoming(callSid)
      const first = yield* connectCall(callSid, parameters, "MZcold00000000000000000000000000001")
      yield* promise(() => first.client.waitFor("the greeting", () => first.client.of("media").length >= 1))

      // The model asks for a person; the service redirects the call with a Dial that has a way back.
      first.upstream.callTool("escalate_call_to_human", { reason: "wants a person" })
      const twiml = yield* eventually(Effect.sync(() => lastTwimlOf(twilio, callSid)), (found) => found !== undefined)
      const dial = findAll(twiml!, "Dial")[0]!
      expect(dial.attributes).toMatchObject({ timeout: "20", callerId: NUMBER, method: "POST" })
      expect(dial.attributes.action).toMatch(/^http:\/\/voice\.test\/twilio\/transfer-result\?tenant=esc&transfer=[0-9a-f-]{36}$/)
      expect(findAll(dial, "Number")[0]!.text).toBe(DESK)
      const [output] = yield* toolAnswered(first.upstream)
      expect(JSON.parse(output.item.output)).toMatchObject({ ok: true, transferred_to: DESK, mode: "cold" })

      // Twilio ends the stream (the call's TwiML was replaced): recorded for the transfer, not hung up.
      first.client.stop()
      yield* promise(() => first.client.closed)
      const afterFirst = yield* eventually(logRow(callSid), (row) => row?.end_reason != null, 10_000)
      expect(afterFirst).toMatchObject({ escalated: false, media_status: "completed", end_reason: "escalated" })
      expect(twilio.requests.some((r) => r.form.Status === "completed")).toBe(false)

      // A forged callback is refused.
      const forged = yield* request("POST", dial.attributes.action!.slice("http://voice.test".length), {
        headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": "bm90LXNpZ25lZA==" },
        body: new URLSearchParams({ CallSid: callSid, DialCallStatus: "no-answer" }).toString()
      })
      expect(forged.status).toBe(401)

      // The dial ends unanswered: our action answers with a new stream for the same call.
      const action = yield* dialOutcome(twilio, callSid, TOKEN, { dialCallStatus: "no-answer" }, {
        accountSid: SID, from: CALLER, to: NUMBER
      })
      expect(action.status).toBe(200)
      expect(action.headers["content-type"]).toContain("text/xml")
      const resumed = streamParameters(parseXml(action.text))
      expect(resumed).toMatchObject({ tenant_id: "esc", call_sid: callSid, direction: "inbound", transfer_result: "no-answer" })
      expect(resumed.agent_version_id).toBe(parameters.agent_version_id)
      expect(resumed.stream_token).not.toBe(parameters.stream_token)

      const second = yield* connectCall(callSid, resumed, "MZcold00000000000000000000000000002")
      // The agent's new session is told, and its first words say nobody answered.
      const told = yield* eventually(
        Effect.sync(() => second.upstream.eventsOf("conversation.item.create")),
        (items) => JSON.stringify(items).includes("was not answered (no-answer)")
      )
      expect(JSON.stringify(told)).toContain("request_callback")
      expect(JSON.stringify(second.upstream.eventsOf("response.create")[0])).toContain("nobody was available")
      yield* promise(() => second.client.waitFor("the agent's line", () => second.client.of("media").length >= 1))
      second.client.stop()
      yield* promise(() => second.client.closed)

      // One record for the call, continued across both streams, never escalated; no event.
      const log = yield* eventually(logRow(callSid), (row) => row?.stream_sid === "MZcold00000000000000000000000000002" && row.end_reason !== "escalated", 10_000)
      expect(log).toMatchObject({ escalated: false, status: "completed", end_reason: "stop" })
      expect(log.transcript.map((t: any) => t.content)).toEqual(expect.arrayContaining(["Hello, how can I help?"]))
      expect(log.transcript.length).toBeGreaterThanOrEqual(2)
      const listed = yield* request("GET", `/api/v1/call-logs?call_sid=${callSid}`, { headers: auth })
      expectSpecSchema(listed.body, "CallLogsListResponse")
      expect(listed.body.calls).toHaveLength(1)
      expect(listed.body.calls[0]).toMatchObject({ escalated: false, status: "completed" })
      expect(yield* escalatedEvents(callSid)).toHaveLength(0)
      const sql = yield* SqlClient.SqlClient
      const [transfer] = yield* sql<any>`select status, dial_call_status, mode, initiated_by from call_transfers
        where tenant_id = 'esc' and call_sid = ${callSid}`.pipe(Effect.orDie)
      expect(transfer).toEqual({ status: "unanswered", dial_call_status: "no-answer", mode: "cold", initiated_by: "ai" })
    }))

  it.effect("answered: the call is escalated once, with one voice.call.escalated event (WebhookEscalationPayload)", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const callSid = newCallSid()
      const parameters = yield* incoming(callSid)
      const call = yield* connectCall(callSid, parameters, "MZcold00000000000000000000000000003")
      yield* promise(() => call.client.waitFor("the greeting", () => call.client.of("media").length >= 1))
      call.upstream.callTool("escalate_call_to_human", { reason: "billing question" })
      yield* toolAnswered(call.upstream)
      call.client.stop()
      yield* promise(() => call.client.closed)
      const before = yield* eventually(logRow(callSid), (row) => row?.end_reason != null, 10_000)
      expect(before).toMatchObject({ escalated: false, status: "completed", end_reason: "escalated" })

      // The person picks up (Number url), later the dial completes (action): escalated once.
      const action = yield* dialOutcome(twilio, callSid, TOKEN, { dialCallStatus: "completed", answered: true }, {
        accountSid: SID, from: CALLER, to: NUMBER
      })
      expect(action.status).toBe(200)
      expect(findAll(parseXml(action.text), "Hangup")).toHaveLength(1)
      const log = yield* logRow(callSid)
      expect(log).toMatchObject({ escalated: true, status: "escalated", end_reason: "escalated", media_status: "escalated" })
      const events = yield* escalatedEvents(callSid)
      expect(events).toHaveLength(1)
      expectSpecSchema(events[0]!.payload.data, "WebhookEscalationPayload")
      expect(events[0]!.payload.data).toEqual({
        stream_sid: "MZcold00000000000000000000000000003",
        call_sid: callSid,
        from_number: CALLER,
        target: DESK,
        initiated_by: "ai",
        reason: "billing question"
      })
      const listed = yield* request("GET", `/api/v1/call-logs?call_sid=${callSid}`, { headers: auth })
      expect(listed.body.calls[0]).toMatchObject({ escalated: true, status: "escalated" })
    }))

  it.effect("transfer callbacks: bad query 400, unknown tenant or bad signature 401, unknown transfer 404", () =>
    Effect.gen(function*() {
      const form = { "content-type": "application/x-www-form-urlencoded" }
      const noQuery = yield* request("POST", "/twilio/transfer-result", { headers: form, body: "DialCallStatus=no-answer" })
      expect(noQuery.status).toBe(400)
      const unknownTenant = yield* twilioCallback(
        "http://voice.test/twilio/transfer-result?tenant=nobody&transfer=00000000-0000-4000-8000-000000000001",
        TOKEN,
        { DialCallStatus: "no-answer" }
      )
      expect(unknownTenant.status).toBe(401)
      const unknownTransfer = yield* twilioCallback(
        "http://voice.test/twilio/transfer-result?tenant=esc&transfer=00000000-0000-4000-8000-000000000001",
        TOKEN,
        { DialCallStatus: "no-answer" }
      )
      expect(unknownTransfer.status).toBe(404)
    }))
})
