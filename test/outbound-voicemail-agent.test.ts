import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { eventuallyHolds } from "./support/Eventually.js"
import { FakeOpenAI } from "./support/FakeOpenAIRealtime.js"
import { FakeTwilioServer, putTenant, twilioWebhook } from "./support/FakeTwilioServer.js"
import { ACME_REST_ACCOUNT, frame, MediaSuite, promise, sessions, startCall, waitForLog } from "./support/MediaCalls.js"

const MESSAGE = "Hi, this is Acme Dental. Please call us back about your appointment."
const TENANT = "vm-agent"

layer(MediaSuite(), { excludeTestServices: true })("voicemail left by the agent", (it) => {
  it.effect("a machine at the beep: the agent is told, speaks the tenant's message, then Twilio hangs up; nothing for Twilio to say", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      const twilio = yield* FakeTwilioServer
      const auth = yield* putTenant(TENANT, {
        twilio: { account_sid: ACME_REST_ACCOUNT.sid, auth_token: ACME_REST_ACCOUNT.token },
        outbound: { on_machine: "voicemail", voicemail_message: MESSAGE }
      })
      fake.onResponseCreate = (connection, event) => {
        const voicemail = String(event.response?.instructions ?? "").includes(MESSAGE)
        connection.reply(voicemail ? { audio: [frame(9)], transcript: MESSAGE } : { audio: [frame(1)], transcript: "Hello!" })
      }
      const { callSid, client, streamSid, upstream } = yield* startCall(TENANT)
      yield* promise(() => client.waitFor("the greeting", () => client.of("media").length >= 1))
      client.playAll()
      yield* eventuallyHolds(sessions(auth), (listed) => listed.some((s) => s.stream_sid === streamSid))

      const amd = yield* twilioWebhook(`/api/v1/outbound-call/amd?tenant=${TENANT}`, {
        CallSid: callSid,
        AccountSid: ACME_REST_ACCOUNT.sid,
        AnsweredBy: "machine_end_beep",
        MachineDetectionDuration: "4200"
      }, { authToken: ACME_REST_ACCOUNT.token })
      expect(amd.status).toBe(200)

      // The agent is told (a system item), then speaks the message: its audio reaches the call.
      // Its mark too: playAll echoes the marks received so far (a missed one is audio never played).
      yield* promise(() => client.waitFor("the message and its mark", () => client.of("media").length >= 2 && client.of("mark").length >= 2))
      expect(client.of("media")[1].media.payload).toBe(frame(9).toString("base64"))
      const notices = upstream.eventsOf("conversation.item.create").filter((e) => e.item?.role === "system")
      expect(JSON.stringify(notices)).toContain("answering machine")
      // Twilio was not asked to say anything.
      const calls = () => twilio.requests.filter((r) => r.path.endsWith(`/Calls/${callSid}.json`))
      expect(calls().filter((r) => typeof r.form.Twiml === "string")).toEqual([])

      // Once the message has played, the call is hung up through Twilio's REST API and recorded once.
      client.playAll()
      yield* promise(() => client.waitFor("the hang-up", () => calls().some((r) => r.form.Status === "completed")))
      const log = yield* waitForLog(callSid, { tenantId: TENANT, auth })
      expect(log.end_reason).toBe("ended_by_command")
      expect(log.answered_by).toBe("machine_end_beep")
      expect(log.transcript.map((t: { content: string }) => t.content)).toContain(MESSAGE)
    }))
})
