import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import pg from "pg"
import { SUPERVISOR_GOODBYE } from "../src/SessionActions/SessionActions.js"
import { eventually, eventuallyHolds } from "./support/Eventually.js"
import { makeFakeOpenAIRealtime } from "./support/FakeOpenAIRealtime.js"
import { startFakeTwilio } from "./support/FakeTwilio.js"
import { frame, promise } from "./support/MediaCalls.js"
import { call, type Replica, startReplicas } from "./support/Replicas.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { testDatabaseUrl } from "./support/TestDatabase.js"
import { adminHeaders, bearer } from "./support/TestServer.js"
import { TwilioMediaClient } from "./support/TwilioMediaClient.js"

const TOKEN = "ctl-token-0123456789"
const OTHER_TOKEN = "ctl-other-token-0123456789"
const ACCOUNT = { sid: `AC${"cd".repeat(16)}`, token: "twilio-auth-token-ctl" }
const COMMAND_TIMEOUT_MS = 1_500

const sids = (n: number) => ({
  streamSid: `MZctl${String(n).padStart(29, "0")}`,
  callSid: `CActl${String(n).padStart(29, "0")}`
})

/** A call on `replica` (tenant bearer, as an internal client), its greeting heard. */
const dial = (replica: Replica, n: number) =>
  Effect.gen(function*() {
    const client = yield* promise(() => TwilioMediaClient.open(`${replica.baseUrl.replace("http", "ws")}/media-stream`, bearer(TOKEN)))
    client.connected()
    client.start({ ...sids(n), customParameters: { direction: "inbound", from: "+15551230001", to: "+15551230002" } })
    yield* promise(() => client.waitFor("the greeting", () => client.of("media").length >= 1, 10_000))
    return { client, ...sids(n) }
  })

const action = (replica: Replica, streamSid: string, name: string, json: unknown, token = TOKEN) =>
  call(replica, "POST", `/api/v1/sessions/${streamSid}/actions/${name}`, { headers: bearer(token), json })

/** Until `replica` lists the call: the ledger row is written once the call has started. */
const listedOn = (replica: Replica, streamSid: string) =>
  eventually(
    call(replica, "GET", "/api/v1/sessions", { headers: bearer(TOKEN) }),
    (res) => (res.body?.sessions ?? []).some((s: { stream_sid: string }) => s.stream_sid === streamSid)
  )

const endReason = (databaseUrl: string, callSid: string) =>
  promise(async () => {
    const client = new pg.Client({ connectionString: databaseUrl })
    await client.connect()
    try {
      const result = await client.query("select end_reason from call_logs where tenant_id = 'ctl' and call_sid = $1", [callSid])
      return result.rows.map((row) => row.end_reason as string)
    } finally {
      await client.end()
    }
  })

describe("session actions across replicas", () => {
  it.live("whisper and end sent to replica A reach a call on replica B; B killed: A answers fast, never hangs", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeOpenAIRealtime
      fake.onResponseCreate = (connection, event) => {
        const goodbye = String(event.response?.instructions ?? "").includes(SUPERVISOR_GOODBYE)
        connection.reply(goodbye ? { audio: [frame(9)], transcript: SUPERVISOR_GOODBYE } : { audio: [frame(1)], transcript: "Hello!" })
      }
      const twilio = yield* startFakeTwilio
      twilio.accounts.set(ACCOUNT.sid, ACCOUNT.token)
      const url = yield* testDatabaseUrl
      const env = {
        OPENAI_BASE_URL: fake.url,
        OPENAI_API_KEY: "sk-ctl",
        TWILIO_API_BASE_URL: twilio.baseUrl,
        MEDIA_HEARTBEAT_SECONDS: "1",
        MEDIA_REAP_AFTER_SECONDS: "60",
        LIVE_CALL_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS)
      }
      const [a, b] = yield* startReplicas(url, env)
      for (const [tenant, token] of [["ctl", TOKEN], ["ctl-other", OTHER_TOKEN]]) {
        const put = yield* call(a, "PUT", `/api/v1/admin/tenants/${tenant}`, {
          headers: adminHeaders,
          json: { tenant_id: tenant, auth_token: token, twilio: { account_sid: ACCOUNT.sid, auth_token: ACCOUNT.token } }
        })
        expect(put.status).toBe(200)
      }

      // --- whisper: sent to A, applied on B's call, seen on that call's upstream socket
      const first = yield* dial(b, 1)
      const upstream = fake.connections[0]!
      yield* listedOn(a, first.streamSid)
      const whisper = yield* action(a, first.streamSid, "whisper", { note: "Offer the customer a 15% discount", supervisor: "dana" })
      expect(whisper.status, whisper.text).toBe(200)
      expectSpecSchema(whisper.body, "SessionActionResponse")
      expect(whisper.body).toEqual({ ok: true, message: "Whisper delivered" })
      // The answer came once B applied it: the item is on the upstream socket already (or in flight to the fake).
      const item = yield* promise(() =>
        fake.waitFor("the whisper upstream", () =>
          upstream.eventsOf("conversation.item.create").find((e) => e.item?.role === "system"))
      )
      expect(item.item.content[0].text).toContain("Offer the customer a 15% discount")
      // Another tenant's bearer sees no such call, from either replica.
      expect((yield* action(a, first.streamSid, "whisper", { note: "hi" }, OTHER_TOKEN)).status).toBe(404)
      expect((yield* action(b, first.streamSid, "whisper", { note: "hi" }, OTHER_TOKEN)).status).toBe(404)

      // --- end: sent to A; B's agent says goodbye, then Twilio hangs up; the record is written once
      const end = yield* action(a, first.streamSid, "end", { reason: "Customer issue resolved", supervisor: "dana" })
      expect(end.status, end.text).toBe(200)
      expectSpecSchema(end.body, "SessionActionResponse")
      // Its mark too: playAll echoes the marks received so far (a missed one is audio never played).
      yield* promise(() =>
        first.client.waitFor("the goodbye and its mark", () => first.client.of("media").length >= 2 && first.client.of("mark").length >= 2)
      )
      expect(first.client.of("media")[1].media.payload).toBe(frame(9).toString("base64"))
      first.client.playAll()
      const hangUps = () => twilio.requests.filter((r) => r.path.endsWith(`/Calls/${first.callSid}.json`) && r.form.Status === "completed")
      yield* promise(() => first.client.waitFor("the hang-up through Twilio", () => hangUps().length === 1))
      expect((yield* promise(() => first.client.closed)).code).toBe(1000)
      yield* eventuallyHolds(endReason(url, first.callSid), (reasons) => reasons.length === 1, 10_000)
      expect(yield* endReason(url, first.callSid)).toEqual(["ended_by_command"])

      // Both actions are in the supervisor log, read from either replica.
      const log = yield* call(b, "GET", `/api/v1/supervisor-actions?stream_sid=${first.streamSid}`, { headers: bearer(TOKEN) })
      expect(log.status).toBe(200)
      for (const row of log.body) expectSpecSchema(row, "SupervisorActionLog")
      expect(log.body.map((r: any) => [r.action, r.supervisor, r.note, r.reason, r.metadata.outcome]).reverse()).toEqual([
        ["whisper", "dana", "Offer the customer a 15% discount", null, "applied"],
        ["end", "dana", null, "Customer issue resolved", "applied"]
      ])

      // --- B is killed with a call on it: A answers within its timeout (503), then 404 once B is stale
      const second = yield* dial(b, 2)
      yield* listedOn(a, second.streamSid)
      b.process.kill("SIGKILL")
      yield* promise(() => second.client.closed)
      const started = Date.now()
      const silent = yield* action(a, second.streamSid, "whisper", { note: "are you there?" })
      const elapsed = Date.now() - started
      expect([404, 503]).toContain(silent.status)
      expectSpecSchema(silent.body, "SessionActionResponse")
      expect(silent.body.ok).toBe(false)
      expect(elapsed).toBeLessThan(COMMAND_TIMEOUT_MS + 1_000)
      if (silent.status === 503) expect(silent.body.message).toContain(`did not answer within ${COMMAND_TIMEOUT_MS} ms`)
      // Two missed heartbeats later the call is gone without asking B at all.
      const gone = yield* eventually(action(a, second.streamSid, "end", {}), (res) => res.status === 404, 10_000)
      expect(gone.body).toEqual({ ok: false, message: `The call ${second.streamSid} is gone: the replica holding it stopped answering` })
      const again = Date.now()
      expect((yield* action(a, second.streamSid, "whisper", { note: "hello?" })).status).toBe(404)
      expect(Date.now() - again).toBeLessThan(500)
    }).pipe(Effect.scoped), 120_000)
})
