import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { TRANSCRIPT_MAX_CHARS } from "../src/Media/CallRecorder.js"
import { SupervisorActions } from "../src/SupervisorActions/SupervisorActions.js"
import { LogSubscriber } from "./support/LogSubscriber.js"
import { ACME, ACME_REST, MediaSuite, promise, startCall, waitForLog } from "./support/MediaCalls.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { request } from "./support/TestServer.js"
import { mediaStreamUrl } from "./support/TwilioMediaClient.js"

const BUFFER_LIMIT = 16_384
const logsUrl = Effect.map(mediaStreamUrl(), (url) => url.replace("/media-stream", "/api/v1/logs"))

layer(MediaSuite({ LIVE_LOGS_SUBSCRIBER_BUFFER_BYTES: String(BUFFER_LIMIT) }), { excludeTestServices: true })(
  "live logs",
  (it) => {
    it.effect("a subscriber that never reads is disconnected (4008); the call and a reading subscriber carry on", () =>
      Effect.gen(function*() {
        const url = yield* logsUrl
        const slow = yield* promise(() => LogSubscriber.open(url, ACME.auth))
        const reader = yield* promise(() => LogSubscriber.open(url, ACME.auth))
        // The slow one stops reading its socket: whatever is sent piles up in buffers.
        const socket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket
        socket.pause()
        const call = yield* startCall()
        const text = "x".repeat(1_900)
        for (let i = 0; i < 4_000; i++) {
          call.upstream.send({ type: "conversation.item.input_audio_transcription.completed", item_id: `flood_${i}`, transcript: `${i} ${text}` })
          if (i % 500 === 499) yield* promise(() => call.upstream.roundTrip())
        }
        const stats = yield* request("GET", "/api/v1/logs/stats", { headers: ACME.auth })
        expect(stats.status).toBe(200)
        expectSpecSchema(stats.body, "LogsStatsResponse")
        expect(stats.body).toMatchObject({ ok: true, tenant: "acme", connectedClients: 1 })
        socket.resume()
        expect(yield* promise(() => slow.closed)).toBe(4008)

        // The call went on and ends normally; the reader saw it end.
        call.client.stop()
        const log = yield* waitForLog(call.callSid)
        expect(log.end_reason).toBe("stop")
        // The record keeps the conversation's first TRANSCRIPT_MAX_CHARS; the rest was live only.
        const kept = log.transcript as Array<{ role: string; content: string }>
        expect(kept.find((entry) => entry.role === "user")?.content.slice(0, 12)).toBe("0 xxxxxxxxxx")
        expect(kept.reduce((chars, entry) => chars + entry.content.length, 0)).toBe(TRANSCRIPT_MAX_CHARS)
        yield* promise(() => reader.waitFor("call.ended", () => reader.of("call.ended")[0]))
        expect(reader.of("transcript").length).toBeGreaterThan(0)
        for (const frame of reader.frames) expect(Buffer.byteLength(JSON.stringify(frame))).toBeLessThan(8_000)
        reader.ws.close()
      }), { timeout: 60_000 })

    it.effect("tool calls and supervisor actions are frames of their tenant only", () =>
      Effect.gen(function*() {
        const url = yield* logsUrl
        const acme = yield* promise(() => LogSubscriber.open(url, ACME.auth))
        const other = yield* promise(() => LogSubscriber.open(url, ACME_REST.auth))
        const call = yield* startCall()
        call.upstream.callTool("check_business_hours", {})
        yield* promise(() => acme.waitFor("tool.call", () => acme.of("tool.call")[0]))
        expect(acme.of("tool.call")[0]).toMatchObject({
          tenant_id: "acme",
          call_sid: call.callSid,
          data: { name: "check_business_hours", outcome: expect.any(String), duration_ms: expect.any(Number) }
        })
        const actions = yield* SupervisorActions
        yield* actions.record({
          tenantId: "acme",
          streamSid: call.streamSid,
          callSid: call.callSid,
          action: "whisper",
          supervisor: "dashboard",
          target: null,
          reason: null,
          note: "Offer a 15% discount",
          metadata: { source: "test" }
        })
        const action = yield* promise(() => acme.waitFor("supervisor.action", () => acme.of("supervisor.action")[0]))
        expect(action).toMatchObject({ stream_sid: call.streamSid, data: { action: "whisper", note: "Offer a 15% discount" } })
        call.client.stop()
        yield* promise(() => acme.waitFor("call.ended", () => acme.of("call.ended")[0]))
        expect(other.frames.map((f) => f.type)).toEqual(["connected"])
        acme.ws.close()
        other.ws.close()
      }))

    it.effect("a limit refusal is a supervisor.action frame with the spec's action `end`, by `limits`", () =>
      Effect.gen(function*() {
        const url = yield* logsUrl
        const subscriber = yield* promise(() => LogSubscriber.open(url, ACME_REST.auth))
        // Satellite numbers are refused by the default destination limits: nothing is dialled.
        const res = yield* request("POST", "/api/v1/make-call", { headers: ACME_REST.auth, json: { to: "+8816123456789", from: "+15550007300" } })
        expect(res.status).toBe(403)
        const frame = yield* promise(() =>
          subscriber.waitFor("supervisor.action", () => subscriber.of("supervisor.action")[0])
        )
        // Stored as `refuse`; a client generated from the spec only knows the spec's actions.
        expect(frame).toMatchObject({
          tenant_id: ACME_REST.tenantId,
          data: { action: "end", supervisor: "limits", target: "+8816123456789", reason: "satellite_destination" }
        })
        expect(JSON.parse(frame.data.metadata)).toEqual({ kind: "outbound_call", status: 403 })
        subscriber.ws.close()
      }))
  }
)
