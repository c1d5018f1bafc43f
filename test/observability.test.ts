import * as Otlp from "@effect/opentelemetry/Otlp"
import { SqlClient } from "@effect/sql"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { expect, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import * as net from "node:net"
import { eventually, eventuallyHolds } from "./support/Eventually.js"
import { FakeOpenAI } from "./support/FakeOpenAIRealtime.js"
import { type OtlpExport, type OtlpSpan, spans, startFakeOtlpCollector } from "./support/FakeOtlpCollector.js"
import { newCallSid, sign } from "./support/FakeTwilioServer.js"
import { parseXml, streamParameters } from "./support/FakeTwilioXml.js"
import { ACME_REST, ACME_REST_ACCOUNT, dial, frame, MediaSuite, newCall, promise, waitUntilGone } from "./support/MediaCalls.js"
import { parseOpenMetrics, type Sample, valueOf } from "./support/OpenMetricsText.js"
import { adminHeaders, request } from "./support/TestServer.js"
import { mediaStreamUrl, TwilioMediaClient } from "./support/TwilioMediaClient.js"

class Collector extends Context.Tag("test/Collector")<Collector, { readonly exports: Array<OtlpExport> }>() {}
class MetricsPort extends Context.Tag("test/MetricsPort")<MetricsPort, number>() {}

const freePort = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address() as net.AddressInfo
    server.close(() => resume(Effect.succeed(address.port)))
  })
})

/** The media suite with METRICS_PORT set and traces and metrics exported to a fake collector. */
const Suite = Layer.unwrapScoped(Effect.gen(function*() {
  const collector = yield* startFakeOtlpCollector
  const port = yield* freePort
  const otlp = Otlp.layerJson({
    baseUrl: collector.url,
    resource: { serviceName: "stateset-voice-test" },
    tracerExportInterval: "100 millis",
    metricsExportInterval: "500 millis"
  }).pipe(Layer.provide(FetchHttpClient.layer))
  return MediaSuite({ METRICS_PORT: String(port), MEDIA_HEARTBEAT_SECONDS: "1" }).pipe(
    Layer.provide(otlp),
    Layer.merge(Layer.succeed(Collector, collector)),
    Layer.merge(Layer.succeed(MetricsPort, port))
  )
}))

const scrape = Effect.gen(function*() {
  const port = yield* MetricsPort
  const res = yield* promise(() => fetch(`http://127.0.0.1:${port}/metrics`))
  expect(res.status).toBe(200)
  expect(res.headers.get("content-type")).toContain("application/openmetrics-text")
  return parseOpenMetrics(yield* promise(() => res.text()))
})

const TENANT = { tenant: ACME_REST.tenantId }
const count = (samples: ReadonlyArray<Sample>, histogram: string, labels: Record<string, string> = TENANT) =>
  valueOf(samples, `${histogram}_count`, labels)

/** The voice webhook for acme-rest (signed with its Twilio token) and the stream parameters of its TwiML. */
const answerWebhook = (callSid: string) =>
  Effect.gen(function*() {
    const path = `/api/v1/incoming-call?tenant=${ACME_REST.tenantId}`
    const params = { CallSid: callSid, AccountSid: ACME_REST_ACCOUNT.sid, From: "+15551230001", To: "+15551230002", CallStatus: "ringing" }
    const res = yield* request("POST", path, {
      headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": sign(ACME_REST_ACCOUNT.token, path, params) },
      body: new URLSearchParams(params).toString()
    })
    expect(res.status).toBe(200)
    return streamParameters(parseXml(res.text))
  })

layer(Suite, { excludeTestServices: true })("observability", (it) => {
  it.effect("simulated calls show in /metrics and in the OTLP export: live calls, set-up, turns, reconnects, linked spans", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      const collector = yield* Collector
      fake.onResponseCreate = (connection) => connection.reply({ audio: [frame(1), frame(2)], transcript: "Secret greeting words" })
      const before = yield* scrape

      // The call as Twilio makes it: webhook -> TwiML -> media stream with the TwiML's parameters.
      const callSid = newCallSid()
      const parameters = yield* answerWebhook(callSid)
      expect(parameters.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/)
      const url = yield* mediaStreamUrl()
      const client = yield* promise(() => TwilioMediaClient.open(url))
      const streamSid = `MZ${callSid.slice(2)}`
      const connections = fake.connections.length
      client.connected()
      client.start({ streamSid, callSid, customParameters: parameters })
      const upstream = yield* promise(() => fake.connection(connections))
      yield* promise(() => client.waitFor("greeting", () => client.of("media").length >= 2))
      for (let i = 0; i < 5; i++) client.media(frame(10 + i))
      yield* promise(() => client.roundTrip())

      const during = yield* scrape
      expect(valueOf(during, "voice_calls_live", TENANT)).toBe(valueOf(before, "voice_calls_live", TENANT) + 1)
      expect(valueOf(during, "voice_calls_started_total", { ...TENANT, direction: "inbound" }))
        .toBe(valueOf(before, "voice_calls_started_total", { ...TENANT, direction: "inbound" }) + 1)
      for (const histogram of ["voice_setup_upgrade_to_start_ms", "voice_setup_start_to_first_audio_ms", "voice_upstream_connect_ms"]) {
        expect(count(during, histogram), histogram).toBe(count(before, histogram) + 1)
      }
      const webhookLabels = { direction: "inbound" }
      expect(count(during, "voice_setup_webhook_to_twiml_ms", webhookLabels)).toBe(count(before, "voice_setup_webhook_to_twiml_ms", webhookLabels) + 1)
      // Every sample carries the replica; none carries a call or stream SID.
      expect(during.every((s) => typeof s.labels.replica === "string" && s.labels.replica.length > 0)).toBe(true)
      expect(JSON.stringify(during)).not.toContain(callSid)
      expect(valueOf(during, "voice_media_frames_total", { ...TENANT, direction: "caller_to_model" }))
        .toBeGreaterThanOrEqual(valueOf(before, "voice_media_frames_total", { ...TENANT, direction: "caller_to_model" }) + 5)
      expect(valueOf(during, "voice_media_frames_total", { ...TENANT, direction: "model_to_caller" }))
        .toBeGreaterThanOrEqual(valueOf(before, "voice_media_frames_total", { ...TENANT, direction: "model_to_caller" }) + 2)

      // Two turns: the caller speaks over the greeting (a barge-in), then once the reply has
      // played (not a barge-in); then a key press.
      for (const item of ["u1", "u2"]) {
        const media = client.of("media").length
        if (item === "u2") {
          client.playAll()
          yield* promise(() => client.roundTrip())
        }
        upstream.send({ type: "input_audio_buffer.speech_started", item_id: item })
        upstream.send({ type: "input_audio_buffer.speech_stopped", item_id: item })
        upstream.reply({ audio: [frame(3)] })
        yield* promise(() => client.waitFor(`reply to ${item}`, () => client.of("media").length > media))
      }
      client.dtmf("7")
      yield* promise(() => client.roundTrip())
      // Tool calls: a known tool, and one the model made up (counted as "unknown", never by its name).
      const outputs = () => upstream.eventsOf("conversation.item.create").filter((e) => e.item?.type === "function_call_output")
      upstream.callTool("check_business_hours", {})
      upstream.callTool("launch_rockets", {})
      yield* promise(() => fake.waitFor("tool outputs", () => outputs().length >= 2))

      // The model connection drops: one reconnect.
      upstream.drop()
      yield* promise(() => fake.connection(connections + 1))
      const afterTurns = yield* scrape
      expect(count(afterTurns, "voice_turn_latency_ms")).toBe(count(before, "voice_turn_latency_ms") + 2)
      expect(valueOf(afterTurns, "voice_barge_ins_total", TENANT)).toBe(valueOf(before, "voice_barge_ins_total", TENANT) + 1)
      expect(valueOf(afterTurns, "voice_dtmf_total", TENANT)).toBe(valueOf(before, "voice_dtmf_total", TENANT) + 1)
      expect(valueOf(afterTurns, "voice_upstream_reconnects_total", TENANT)).toBe(valueOf(before, "voice_upstream_reconnects_total", TENANT) + 1)
      const tool = { ...TENANT, tool: "check_business_hours" }
      expect(valueOf(afterTurns, "voice_tool_calls_total", tool)).toBe(valueOf(before, "voice_tool_calls_total", tool) + 1)
      expect(count(afterTurns, "voice_tool_call_duration_ms", tool)).toBe(count(before, "voice_tool_call_duration_ms", tool) + 1)
      const unknown = { ...TENANT, tool: "unknown", outcome: "error" }
      expect(valueOf(afterTurns, "voice_tool_calls_total", unknown)).toBe(valueOf(before, "voice_tool_calls_total", unknown) + 1)
      expect(afterTurns.some((s) => s.labels.tool === "launch_rockets")).toBe(false)
      const lost = { ...TENANT, kind: "lost" }
      expect(valueOf(afterTurns, "voice_upstream_failures_total", lost)).toBe(valueOf(before, "voice_upstream_failures_total", lost) + 1)

      client.stop()
      yield* waitUntilGone(streamSid, ACME_REST.auth)
      const after = yield* scrape
      expect(valueOf(after, "voice_calls_live", TENANT)).toBe(valueOf(before, "voice_calls_live", TENANT))
      const ended = { ...TENANT, direction: "inbound", end_reason: "stop" }
      expect(valueOf(after, "voice_calls_ended_total", ended)).toBe(valueOf(before, "voice_calls_ended_total", ended) + 1)

      // Traces: the call's span links to the webhook's span (same call SID) and tells the call's story.
      const exported = yield* eventually(
        Effect.sync(() => spans(collector.exports)),
        (all) => all.some((s) => s.name === "media.call" && s.attributes["call.sid"] === callSid),
        10_000
      )
      const webhook = exported.find((s) => s.name === "VoiceWebhooks.answer" && s.attributes["call.sid"] === callSid)
      const call = exported.find((s) => s.name === "media.call" && s.attributes["call.sid"] === callSid) as OtlpSpan
      expect(webhook).toBeDefined()
      expect(call.links).toEqual([{ traceId: webhook!.traceId, spanId: webhook!.spanId }])
      expect(parameters.traceparent).toBe(`00-${webhook!.traceId}-${webhook!.spanId}-01`)
      const events = call.events.map((e) => e.name)
      for (const name of ["call.start", "call.first_audio", "call.barge_in", "call.dtmf", "call.tool_call", "call.upstream_failed", "call.reconnect", "call.end"]) {
        expect(events).toContain(name)
      }
      expect(call.events.find((e) => e.name === "call.end")!.attributes).toEqual({ end_reason: "stop" })
      const toolEvents = call.events.filter((e) => e.name === "call.tool_call").map((e) => e.attributes.tool)
      expect(toolEvents.sort()).toEqual(["check_business_hours", "unknown"])
      expect(call.events.find((e) => e.name === "call.dtmf")!.attributes).toEqual({})
      // The set-up's and the record's own spans (spannedIf, chosen when the layers are built), by their names, in those traces.
      const namesIn = (traceId: string) => new Set(exported.filter((s) => s.traceId === traceId).map((s) => s.name))
      const setUp = namesIn(webhook!.traceId)
      for (const name of ["TenantResolution.resolve", "VersionResolution.resolve", "StreamTokens.mint"]) expect(setUp).toContain(name)
      expect(namesIn(call.traceId)).toContain("CallRecords.recordCompletedCall")
      // The upstream connects are the call span's children.
      const connects = exported.filter((s) => s.name === "openai.realtime.connect" && s.traceId === call.traceId)
      expect(connects).toHaveLength(2)

      // Metrics reach the collector too; no transcript, audio, token or digit is exported anywhere.
      yield* eventuallyHolds(
        Effect.sync(() => collector.exports.some((e) => e.path === "/v1/metrics" && e.body.includes("voice_calls_ended_total"))),
        (found) => found,
        10_000
      )
      const everything = collector.exports.map((e) => e.body).join("\n")
      expect(everything).not.toContain("Secret greeting")
      expect(everything).not.toContain(parameters.stream_token)
      expect(everything).not.toContain(frame(10).toString("base64"))
      expect(everything).not.toContain(ACME_REST_ACCOUNT.token)
    }), 30_000)

  it.effect("an upstream that cannot be reached: connect failures counted, and the apology to Twilio is a child span of the call", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      const collector = yield* Collector
      const before = yield* scrape
      fake.refuseNext = 2 // the first attempt and the one retry
      const call = yield* newCall(ACME_REST.tenantId)
      const client = yield* dial(call)
      yield* promise(() => client.closed)
      const ended = { ...TENANT, end_reason: "upstream_failure" }
      const after = yield* eventually(scrape, (samples) =>
        valueOf(samples, "voice_calls_ended_total", ended) > valueOf(before, "voice_calls_ended_total", ended), 10_000)
      const connect = { ...TENANT, kind: "connect" }
      expect(valueOf(after, "voice_upstream_failures_total", connect)).toBe(valueOf(before, "voice_upstream_failures_total", connect) + 2)
      expect(valueOf(after, "voice_upstream_reconnects_total", TENANT)).toBe(valueOf(before, "voice_upstream_reconnects_total", TENANT) + 1)
      expect(valueOf(after, "voice_calls_ended_total", ended)).toBe(valueOf(before, "voice_calls_ended_total", ended) + 1)

      const exported = yield* eventually(
        Effect.sync(() => spans(collector.exports)),
        (all) => all.some((s) => s.name === "media.call" && s.attributes["call.sid"] === call.callSid),
        10_000
      )
      const span = exported.find((s) => s.name === "media.call" && s.attributes["call.sid"] === call.callSid)!
      expect(span.links).toEqual([]) // no webhook in this call: nothing to link to
      const apology = exported.filter((s) => s.name === "TwilioClient.updateCall" && s.traceId === span.traceId)
      expect(apology).toHaveLength(1)
      expect(span.events.filter((e) => e.name === "call.upstream_failed").map((e) => e.attributes.kind)).toEqual(["connect", "connect"])
    }))

  it.effect("gauges: outbox depth and oldest age, readiness, pool; the reaper's sweep runs", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const before = yield* scrape
      const webhook = { outbox: "webhook" }
      const id = crypto.randomUUID()
      // Waiting for a retry an hour away, so the delivery worker leaves it pending.
      yield* sql`insert into webhook_outbox (id, tenant_id, event, payload, created_at, next_attempt_at)
                 values (${id}, ${ACME_REST.tenantId}, 'call.completed', '{}'::jsonb, now() - interval '90 seconds',
                         now() + interval '1 hour')`
      const waiting = yield* scrape
      expect(valueOf(waiting, "voice_outbox_pending", webhook)).toBe(valueOf(before, "voice_outbox_pending", webhook) + 1)
      expect(valueOf(waiting, "voice_outbox_oldest_pending_age_seconds", webhook)).toBeGreaterThanOrEqual(90)
      expect(valueOf(waiting, "voice_replica_ready")).toBe(1)
      const reaper = { sweep: "live_calls_reaper" } // a sweep that runs every heartbeat (1 s here)
      const swept = yield* eventually(scrape, (samples) =>
        valueOf(samples, "voice_sweep_runs_total", { ...reaper, outcome: "ok" }) > valueOf(before, "voice_sweep_runs_total", { ...reaper, outcome: "ok" }), 5_000)
      expect(count(swept, "voice_sweep_duration_ms", reaper)).toBeGreaterThan(count(before, "voice_sweep_duration_ms", reaper))
      expect(waiting.some((s) => s.name === "voice_db_pool_connections_in_use")).toBe(true)
      yield* sql`update webhook_outbox set status = 'delivered' where id = ${id}`
      const drained = yield* scrape
      expect(valueOf(drained, "voice_outbox_pending", webhook)).toBe(valueOf(before, "voice_outbox_pending", webhook))
    }))

  it.effect("/metrics is not on the main port unless METRICS_ENABLED, and the metrics port serves nothing else", () =>
    Effect.gen(function*() {
      const main = yield* request("GET", "/metrics", { headers: adminHeaders })
      expect(main.status).toBe(404)
      const port = yield* MetricsPort
      const other = yield* promise(() => fetch(`http://127.0.0.1:${port}/api/v1/admin/tenants`, { headers: adminHeaders }))
      expect(other.status).toBe(404)
    }))
})
