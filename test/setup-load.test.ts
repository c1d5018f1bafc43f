import { expect } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { WebSocket } from "ws"
import { BUSY_MESSAGE } from "../src/Limits/Inbound.js"
import { within } from "./support/Bounded.js"
import { eventually } from "./support/Eventually.js"
import { accountSid, agentWithRoute, newCallSid, putTenant, suiteWithFakeTwilio, twilioWebhook } from "./support/FakeTwilioServer.js"
import { adminHeaders, request } from "./support/TestServer.js"
import { mediaStreamUrl } from "./support/TwilioMediaClient.js"

const SID = accountSid("burst")
const TOKEN = "burst-twilio-auth-token"
const NUMBER = "+15550004000"

const incoming = () =>
  twilioWebhook("/api/v1/incoming-call", {
    CallSid: newCallSid(),
    AccountSid: SID,
    From: "+15557650000",
    To: NUMBER,
    Direction: "inbound",
    CallStatus: "ringing"
  }, { authToken: TOKEN })

/** A media stream that upgrades and then says nothing: a call set-up this replica is still doing. */
const silentStream = Effect.acquireRelease(
  Effect.flatMap(mediaStreamUrl(), (url) =>
    Effect.promise(() =>
      within(15_000, "open a silent media stream", new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(url)
        ws.once("open", () => resolve(ws))
        ws.once("error", reject)
      })))),
  (ws) => Effect.sync(() => ws.close())
)

const seed = Layer.effectDiscard(Effect.gen(function*() {
  yield* putTenant("burst", { twilio: { account_sid: SID, auth_token: TOKEN } })
  yield* agentWithRoute("burst", { phoneNumber: NUMBER })
}))

suiteWithFakeTwilio({ MAX_CALL_SETUPS_IN_FLIGHT: "2", METRICS_ENABLED: "true" }, seed)("call set-ups under a burst", (it) => {
  it.scoped("past MAX_CALL_SETUPS_IN_FLIGHT a caller hears the busy message at once; once set-ups finish calls connect again", () =>
    Effect.gen(function*() {
      const first = yield* incoming()
      expect(first.status).toBe(200)
      expect(first.text).toContain("<Stream")

      // Two streams waiting for their `start` fill this replica's set-up slots.
      const a = yield* silentStream
      const b = yield* silentStream
      const busy = yield* incoming()
      expect(busy.status).toBe(200)
      expect(busy.text).not.toContain("<Stream")
      expect(busy.text).toContain(BUSY_MESSAGE)
      expect(busy.text).toContain("<Hangup/>")

      // One set-up ends (its socket goes away): the next caller is connected.
      a.close()
      yield* Effect.promise(() => within(10_000, "the set-up's socket to close", new Promise((resolve) => a.once("close", resolve))))
      const next = yield* eventually(incoming(), (answer) => answer.text.includes("<Stream"), 15_000)
      expect(next.text).toContain("<Stream")
      b.close()
    }))

  it.effect("shed calls are counted in the limit refusals metric's reason replica_overloaded", () =>
    Effect.gen(function*() {
      const res = yield* Effect.scoped(Effect.gen(function*() {
        yield* silentStream
        yield* silentStream
        return yield* incoming()
      }))
      expect(res.text).toContain(BUSY_MESSAGE)
      const metrics = yield* request("GET", "/metrics", { headers: adminHeaders })
      expect(metrics.status).toBe(200)
      const line = metrics.text.split("\n").find((l) =>
        l.startsWith("voice_limit_refusals_total") && l.includes(`reason="replica_overloaded"`) && l.includes(`kind="inbound_call"`)
      )
      expect(line).toBeDefined()
      expect(Number(line!.split(" ").at(-1))).toBeGreaterThanOrEqual(1)
    }))
})
