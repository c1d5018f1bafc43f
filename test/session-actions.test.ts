import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { SUPERVISOR_GOODBYE } from "../src/SessionActions/SessionActions.js"
import { eventuallyHolds } from "./support/Eventually.js"
import { FakeOpenAI } from "./support/FakeOpenAIRealtime.js"
import { FakeTwilioServer, putTenant } from "./support/FakeTwilioServer.js"
import { ACME, ACME_REST, ACME_REST_ACCOUNT, frame, MediaSuite, promise, sessions, startCall, waitForLog } from "./support/MediaCalls.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, request } from "./support/TestServer.js"

const action = (streamSid: string, name: string, json: unknown, headers: Record<string, string> = ACME.auth) =>
  request("POST", `/api/v1/sessions/${streamSid}/actions/${name}`, { headers, json })

/** Checked against the spec: every answer of this endpoint, success or error, is a `SessionActionResponse`. */
const expectAnswer = (res: { status: number; body: any }, status: number, message: string | RegExp) => {
  expect(res.status, JSON.stringify(res.body)).toBe(status)
  expectSpecSchema(res.body, "SessionActionResponse")
  expect(res.body.ok).toBe(status === 200)
  if (typeof message === "string") expect(res.body.message).toBe(message)
  else expect(res.body.message).toMatch(message)
}

const logRows = (streamSid: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<any>`select action, supervisor, note, target, reason, call_sid, metadata from supervisor_actions
             where stream_sid = ${streamSid} order by created_at`.pipe(Effect.orDie))

const systemItems = (upstream: { eventsOf: (type: string) => Array<any> }) =>
  upstream.eventsOf("conversation.item.create").filter((e) => e.item?.role === "system")

layer(MediaSuite(), { excludeTestServices: true })("session actions on one replica", (it) => {
  it.effect("whisper reaches the model as a system item the caller does not hear; logged with its outcome", () =>
    Effect.gen(function*() {
      const { callSid, client, streamSid, upstream } = yield* startCall()
      yield* promise(() => client.waitFor("the greeting", () => client.of("media").length >= 1))
      const mediaBefore = client.of("media").length

      const res = yield* action(streamSid, "whisper", { note: "Offer the customer a 15% discount", supervisor: "dana" })
      expectAnswer(res, 200, "Whisper delivered")
      yield* promise(() => upstream.roundTrip())
      const [item] = systemItems(upstream)
      expect(item.item.content[0].text).toContain("Offer the customer a 15% discount")
      expect(item.item.content[0].text).toContain("caller cannot hear it")
      // Context only: no response is asked for, nothing is played to the caller.
      expect(upstream.eventsOf("response.create")).toHaveLength(1)
      yield* promise(() => client.roundTrip())
      expect(client.of("media")).toHaveLength(mediaBefore)

      const rows = yield* logRows(streamSid)
      expect(rows).toEqual([{
        action: "whisper",
        supervisor: "dana",
        note: "Offer the customer a 15% discount",
        target: null,
        reason: null,
        call_sid: callSid,
        metadata: { outcome: "applied", message: "Whisper delivered" }
      }])
      const listed = yield* request("GET", `/api/v1/supervisor-actions?stream_sid=${streamSid}`, { headers: ACME.auth })
      expect(listed.status).toBe(200)
      for (const row of listed.body) expectSpecSchema(row, "SupervisorActionLog")
      client.stop()
      yield* waitForLog(callSid)
    }))

  it.effect("bad requests are 400 naming what is wrong; another tenant's or an unknown stream is 404", () =>
    Effect.gen(function*() {
      const { callSid, client, streamSid, upstream } = yield* startCall()
      yield* promise(() => client.waitFor("the greeting", () => client.of("media").length >= 1))

      expectAnswer(yield* action(streamSid, "whisper", {}), 400, "note is required for whisper")
      expectAnswer(yield* action(streamSid, "whisper", { note: "   " }), 400, "note is required for whisper")
      expectAnswer(
        yield* action(streamSid, "shout", { note: "hi" }),
        400,
        "Unknown action \"shout\": use one of monitor, whisper, barge, escalate, end"
      )
      expectAnswer(yield* action(streamSid, "whisper", { note: 5 }), 400, /note/)
      expectAnswer(yield* action(streamSid, "whisper", { note: "x".repeat(3_001) }), 400, /at most 3000 characters/)
      expectAnswer(yield* action(streamSid, "monitor", { target: "+1".repeat(40) }), 400, /target/)
      // Within 3000 characters, but over a NOTIFY payload in UTF-8: refused wherever the call runs.
      expectAnswer(yield* action(streamSid, "whisper", { note: "€".repeat(2_900) }), 400, /too large .* at most 7900/)
      // Another tenant's call does not exist for this caller; nor does a stream nobody holds.
      expectAnswer(yield* action(streamSid, "whisper", { note: "hi" }, ACME_REST.auth), 404, `No live call with stream SID ${streamSid}`)
      expectAnswer(yield* action("MZ-nobody", "end", {}), 404, "No live call with stream SID MZ-nobody")
      // Unauthenticated: 401, nothing applied.
      expect((yield* request("POST", `/api/v1/sessions/${streamSid}/actions/end`, { json: {} })).status).toBe(401)
      // barge needs the number of the person joining.
      expectAnswer(yield* action(streamSid, "barge", {}), 400, "barge needs a target: the number of the person joining")

      expect(systemItems(upstream)).toEqual([])
      const rows = yield* logRows(streamSid)
      expect(rows.map((r: any) => [r.action, r.metadata.outcome])).toEqual([["barge", "failed"]])
      // Nothing ended the call.
      expect((yield* sessions()).map((s) => s.stream_sid)).toContain(streamSid)
      client.stop()
      yield* waitForLog(callSid)
    }))

  it.effect("monitor marks the call in the ledger; a listen-only leg needs the tenant's Twilio (see monitor-listen.test.ts)", () =>
    Effect.gen(function*() {
      const { callSid, client, streamSid } = yield* startCall()
      expectAnswer(yield* action(streamSid, "monitor", { supervisor: "dana" }), 200, "Monitoring")
      expectAnswer(
        yield* action(streamSid, "monitor", { supervisor: "lee", target: "+15557770001" }),
        409,
        "The call refused: Twilio is not configured for this tenant"
      )
      const sql = yield* SqlClient.SqlClient
      const [row] = yield* sql<any>`select monitored_by, monitored_at from live_calls where stream_sid = ${streamSid}`.pipe(Effect.orDie)
      expect(row).toMatchObject({ monitored_by: "dana", monitored_at: expect.any(String) })
      expect((yield* logRows(streamSid)).map((r: any) => [r.action, r.supervisor, r.target])).toEqual([
        ["monitor", "dana", null],
        ["monitor", "lee", "+15557770001"]
      ])
      client.stop()
      yield* waitForLog(callSid)
    }))

  it.effect("end: the agent says goodbye, then Twilio hangs the call up; the record is written once", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      const twilio = yield* FakeTwilioServer
      fake.onResponseCreate = (connection, event) => {
        const goodbye = String(event.response?.instructions ?? "").includes(SUPERVISOR_GOODBYE)
        connection.reply(goodbye ? { audio: [frame(9)], transcript: SUPERVISOR_GOODBYE } : { audio: [frame(1)], transcript: "Hello!" })
      }
      const { callSid, client, streamSid } = yield* startCall(ACME_REST.tenantId)
      yield* promise(() => client.waitFor("the greeting", () => client.of("media").length >= 1))
      client.playAll()
      // The ledger row is written as the call starts, not necessarily before the greeting.
      yield* eventuallyHolds(sessions(ACME_REST.auth), (listed) => listed.some((s) => s.stream_sid === streamSid))

      const res = yield* action(streamSid, "end", { reason: "Customer issue resolved", supervisor: "dana" }, ACME_REST.auth)
      expectAnswer(res, 200, "Ending the call after the agent's goodbye")
      // Its mark too: playAll echoes the marks received so far (a missed one is audio never played).
      yield* promise(() => client.waitFor("the goodbye and its mark", () => client.of("media").length >= 2 && client.of("mark").length >= 2))
      expect(client.of("media")[1].media.payload).toBe(frame(9).toString("base64"))
      // Not hung up while the goodbye is still playing.
      const hangUps = () => twilio.requests.filter((r) => r.path.endsWith(`/Calls/${callSid}.json`) && r.form.Status === "completed")
      expect(hangUps()).toEqual([])
      client.playAll()
      yield* promise(() => client.waitFor("the hang-up", () => hangUps().length === 1))
      expect(hangUps()[0]).toMatchObject({ method: "POST", accountSid: ACME_REST_ACCOUNT.sid })
      expect((yield* promise(() => client.closed)).code).toBe(1000)
      const log = yield* waitForLog(callSid, ACME_REST)
      expect(log).toMatchObject({ end_reason: "ended_by_command", status: "completed", stream_sid: streamSid })
      expect(log.transcript.map((t: { content: string }) => t.content)).toContain(SUPERVISOR_GOODBYE)
      expect((yield* logRows(streamSid)).map((r: any) => [r.action, r.reason, r.metadata.outcome])).toEqual([
        ["end", "Customer issue resolved", "applied"]
      ])
      // The call has gone: a second end is a 404.
      yield* eventuallyHolds(action(streamSid, "end", {}, ACME_REST.auth), (again) => again.status === 404)
    }))

  it.effect("escalate transfers the call through EscalateCall (Twilio <Dial>) and marks the session escalated", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const auth = yield* putTenant("ctl-esc", {
        twilio: { account_sid: ACME_REST_ACCOUNT.sid, auth_token: ACME_REST_ACCOUNT.token },
        escalation: { number: "+15557770000", departments: { billing: "+15557770002" } }
      })
      const { callSid, client, streamSid } = yield* startCall("ctl-esc")
      expectAnswer(yield* action(streamSid, "escalate", { target: "+15550000000" }, auth), 409, "+15550000000 is not a configured escalation number")
      const res = yield* action(streamSid, "escalate", { target: "+15557770002", reason: "Customer asked for billing", supervisor: "dana" }, auth)
      expectAnswer(res, 200, "Escalated to +15557770002")
      const update = twilio.requests.find((r) => r.path.endsWith(`/Calls/${callSid}.json`) && typeof r.form.Twiml === "string")
      expect(update?.form.Twiml).toContain("<Dial")
      expect(update?.form.Twiml).toContain("+15557770002")
      const listed = yield* sessions(auth)
      expect(listed.find((s) => s.stream_sid === streamSid)).toMatchObject({ escalated: true, escalation_target: "+15557770002" })
      expect((yield* logRows(streamSid)).map((r: any) => [r.action, r.target, r.reason, r.metadata.outcome])).toEqual([
        ["escalate", "+15550000000", null, "failed"],
        ["escalate", "+15557770002", "Customer asked for billing", "applied"]
      ])
      client.stop()
      yield* waitForLog(callSid, { tenantId: "ctl-esc", auth })
    }))
  it.effect("escalate is warm when the tenant says escalation.supervisor_mode: warm; Twilio's failures map by their status", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const config = (mode: string) => ({
        twilio: { account_sid: ACME_REST_ACCOUNT.sid, auth_token: ACME_REST_ACCOUNT.token, from_number: "+15557770009" },
        escalation: { number: "+15557770000", departments: { billing: "+15557770002", sales: "+15557770003" }, supervisor_mode: mode }
      })
      const refused = yield* request("PUT", "/api/v1/admin/tenants/ctl-warm", {
        headers: adminHeaders,
        json: { tenant_id: "ctl-warm", auth_token: "ctl-warm-bearer-token-0123456789", ...config("lukewarm") }
      })
      expect(refused.status).toBe(400)
      expect(refused.text).toContain("escalation.supervisor_mode must be one of warm, cold")
      const auth = yield* putTenant("ctl-warm", config("warm"))
      const { callSid, client, streamSid } = yield* startCall("ctl-warm")

      const res = yield* action(streamSid, "escalate", { reason: "Customer asked for a manager", supervisor: "dana" }, auth)
      expectAnswer(res, 200, "Transferring to +15557770000 (warm: they hear a summary first, then the caller is joined)")
      const dialled = twilio.requests.filter((r) => r.path.endsWith("/Calls.json") && r.form.To === "+15557770000")
      expect(dialled).toHaveLength(1)
      expect(dialled[0]!.form.Url).toMatch(/\/twilio\/transfer-answered\?tenant=ctl-warm&transfer=/)
      // The caller stays with the agent until the person answers: its call is not redirected.
      expect(twilio.requests.some((r) => r.path.endsWith(`/Calls/${callSid}.json`))).toBe(false)
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<any>`select mode, initiated_by, status, summary from call_transfers
        where tenant_id = 'ctl-warm' and call_sid = ${callSid}`.pipe(Effect.orDie)
      expect(rows).toEqual([{ mode: "warm", initiated_by: "supervisor", status: "pending", summary: expect.stringContaining("Customer asked for a manager") }])
      expect((yield* sessions(auth)).find((s) => s.stream_sid === streamSid)).toMatchObject({ escalated: false })

      // Twilio refusing the number is the request's fault (409); Twilio failing is a 503.
      twilio.rejectedNumbers.add("+15557770003")
      twilio.failingNumbers.add("+15557770002")
      expectAnswer(yield* action(streamSid, "escalate", { target: "+15557770003" }, auth), 409, /^Twilio did not call the person: /)
      expectAnswer(yield* action(streamSid, "escalate", { target: "+15557770002" }, auth), 503, /^Twilio did not call the person: /)
      twilio.rejectedNumbers.delete("+15557770003")
      twilio.failingNumbers.delete("+15557770002")
      client.stop()
      yield* waitForLog(callSid, { tenantId: "ctl-warm", auth })
    }))
})
