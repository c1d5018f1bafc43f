import { readFileSync } from "node:fs"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { createdCalls, lastTwimlOf } from "./support/FakeTwilioCallbacks.js"
import { FakeTwilioServer, newCallSid, putTenant } from "./support/FakeTwilioServer.js"
import { findAll } from "./support/FakeTwilioXml.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { request } from "./support/TestServer.js"
import { auth, connectCall, DESK, incoming, NUMBER, promise, Suite } from "./support/EscalationSuite.js"

const spec = JSON.parse(readFileSync(new URL("../spec/openapi.json", import.meta.url), "utf8"))
const example = (path: string) => spec.paths[path].post.requestBody.content["application/json"].example
const COLD = "/api/v1/automations/escalate-call"
const WARM = "/api/v1/automations/escalate-call-with-bridge"
const TARGET = "+15550008999"

const post = (path: string, json: unknown, headers: Record<string, string> = auth) => request("POST", path, { headers, json })

/** A live call (webhook, then its media stream) to escalate. */
const liveCall = (streamSid: string) =>
  Effect.gen(function*() {
    const callSid = newCallSid()
    const call = yield* connectCall(callSid, yield* incoming(callSid), streamSid)
    yield* promise(() => call.client.waitFor("the greeting", () => call.client.of("media").length >= 1))
    return { callSid, ...call }
  })

layer(Suite, { excludeTestServices: true })("escalation automations", (it) => {
  it.effect("the spec's examples: an unknown call is a 400 AutomationResponse; auth is required", () =>
    Effect.gen(function*() {
      for (const path of [COLD, WARM]) {
        const body = example(path)
        const res = yield* post(path, { ...body, target_number: TARGET })
        expect(res.status).toBe(400)
        expectSpecSchema(res.body, "AutomationResponse")
        expect(res.body).toEqual({ ok: false, error: `unknown call: ${body.call_sid} is not a call of this tenant` })
        const missing = yield* post(path, body)
        expect(missing.status).toBe(400)
        expectSpecSchema(missing.body, "AutomationResponse")
        expect(missing.body.error).toBe("Function 'escalate_call_to_human' failed: missing required field 'target_number'")
        const anonymous = yield* post(path, body, {})
        expect(anonymous.status).toBe(401)
      }
    }))

  it.effect("escalate-call: a cold transfer of the tenant's live call to target_number", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const call = yield* liveCall("MZauto00000000000000000000000000001")
      const res = yield* post(COLD, { ...example(COLD), call_sid: call.callSid, target_number: TARGET })
      expect(res.status).toBe(200)
      expectSpecSchema(res.body, "AutomationResponse")
      expect(res.body).toEqual({
        ok: true,
        error: null,
        result: {
          call_sid: call.callSid,
          stream_sid: "MZauto00000000000000000000000000001",
          target_number: TARGET,
          mode: "cold",
          status: "transferring",
          reason: "customer requested a human agent"
        }
      })
      const dial = findAll(lastTwimlOf(twilio, call.callSid)!, "Dial")[0]!
      expect(findAll(dial, "Number")[0]!.text).toBe(TARGET)
      expect(dial.attributes.action).toContain("/twilio/transfer-result?tenant=esc")
      call.client.stop()
    }))

  it.effect("escalate-call-with-bridge: a warm transfer (the person is called first, the caller stays connected)", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const call = yield* liveCall("MZauto00000000000000000000000000002")
      const before = createdCalls(twilio).length
      const res = yield* post(WARM, { call_sid: call.callSid, to: DESK, reason: "VIP" })
      expect(res.status).toBe(200)
      expectSpecSchema(res.body, "AutomationResponse")
      expect(res.body.result).toMatchObject({ mode: "warm", target_number: DESK, status: "transferring" })
      const [dialled] = createdCalls(twilio).slice(before)
      expect([dialled!.form.To, dialled!.form.From]).toEqual([DESK, NUMBER])
      expect(lastTwimlOf(twilio, call.callSid)).toBeUndefined()
      call.client.stop()
    }))

  it.effect("bad input is a 400 naming it; another tenant's call is unknown; Twilio failing is a 503", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const call = yield* liveCall("MZauto00000000000000000000000000003")
      const bad = yield* post(COLD, { call_sid: call.callSid, target_number: "555-1234" })
      expect(bad.status).toBe(400)
      expectSpecSchema(bad.body, "AutomationResponse")
      expect(bad.body.error).toContain("target_number must be an E.164 phone number")
      const notText = yield* post(COLD, { call_sid: call.callSid, target_number: 15550008999 })
      expect(notText.status).toBe(400)
      expect(notText.body.error).toContain("target_number must be a string")
      const noCall = yield* post(COLD, { target_number: TARGET })
      expect(noCall.status).toBe(400)
      expect(noCall.body.error).toContain("'call_sid'")

      const other = yield* putTenant("esc-other", {})
      const foreign = yield* post(COLD, { call_sid: call.callSid, target_number: TARGET }, other)
      expect(foreign.status).toBe(400)
      expect(foreign.body.error).toContain("is not a call of this tenant")

      // Twilio refuses the number (HTTP 400): the request's fault.
      twilio.rejectedNumbers.add("+15550008111")
      const refused = yield* post(WARM, { call_sid: call.callSid, target_number: "+15550008111" })
      expect(refused.status).toBe(400)
      expect(refused.body.error).toContain("Twilio did not call the person")

      twilio.failWith = "server_error"
      const down = yield* post(COLD, { call_sid: call.callSid, target_number: TARGET })
      twilio.failWith = "none"
      expect(down.status).toBe(503)
      expectSpecSchema(down.body, "ErrorResponse")
      expect(down.body.error).toContain("Twilio did not transfer the call")
      call.client.stop()
    }))
})
