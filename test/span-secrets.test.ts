import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Clock, Effect, Layer } from "effect"
import { WebhookOutbox } from "../src/Outbox/WebhookOutbox.js"
import { OutboxWorker } from "../src/Outbox/Worker.js"
import { eventually } from "./support/Eventually.js"
import { exportingToFakeCollector, OtlpCollector, spans } from "./support/FakeOtlpCollector.js"
import { fakeWebhookReceiver } from "./support/FakeWebhookReceiver.js"
import { adminHeaders, makeTestServer, request } from "./support/TestServer.js"
import { secret } from "./support/WebhookChecks.js"

/** Request spans leave the process (an OTLP collector): no credential may ride along in them. */

/**
 * A tenant with `webhookUrl` gets one event delivered (`received` counts what reached the receiver):
 * every exported span of the delivery's trace (the POST is its child).
 */
const deliveryTrace = (tenantId: string, webhookUrl: string, received: () => number) =>
  Effect.gen(function*() {
    const put = yield* request("PUT", `/api/v1/admin/tenants/${tenantId}`, {
      headers: adminHeaders,
      json: { tenant_id: tenantId, webhook_url: webhookUrl, webhook_secret: secret(tenantId) }
    })
    expect(put.status).toBe(200)
    const sql = yield* SqlClient.SqlClient
    const outbox = yield* WebhookOutbox
    const at = new Date(yield* Clock.currentTimeMillis)
    yield* sql.withTransaction(outbox.enqueue(tenantId, "voice.call.started", { call_sid: `CA${tenantId}` }, at)).pipe(Effect.orDie)
    yield* (yield* OutboxWorker).drain
    yield* eventually(Effect.sync(received), (n) => n === 1)
    const { exports } = yield* OtlpCollector
    const delivery = yield* eventually(
      Effect.sync(() => spans(exports).find((span) => span.name === "WebhookDelivery.deliver" && span.attributes.tenant_id === tenantId)),
      (span) => span !== undefined,
      5_000
    )
    return spans(exports).filter((span) => span.traceId === delivery!.traceId)
  })

layer(makeTestServer({ ALLOW_PRIVATE_OUTBOUND_URLS: "true" }).pipe(Layer.provideMerge(exportingToFakeCollector)), { excludeTestServices: true })("request spans", (it) => {
  it.effect("a credential in the query (the sweeps' auth_token) is redacted in the server span's url attributes", () =>
    Effect.gen(function*() {
      const token = "legacy-tenant-token-in-query-0123456789"
      const path = "/api/v1/admin/operator-queues/sweep"
      const res = yield* request("POST", `${path}?auth_token=${token}&limit=5`, { headers: adminHeaders })
      expect(res.status).toBe(200)
      const { exports } = yield* OtlpCollector
      const server = yield* eventually(
        Effect.sync(() => spans(exports).find((span) => span.attributes["url.path"] === path)),
        (span) => span !== undefined,
        5_000
      )
      expect(server!.attributes["url.query"]).toBe("auth_token=REDACTED&limit=5")
      expect(String(server!.attributes["url.full"])).toMatch(/\/api\/v1\/admin\/operator-queues\/sweep\?auth_token=REDACTED&limit=5$/)
      // Every span of the service (the test's own client span carries what it sent).
      const service = spans(exports).filter((span) => !span.name.startsWith("http.client"))
      expect(service.length).toBeGreaterThan(0)
      expect(JSON.stringify(service)).not.toContain(token)
    }))

  it.scoped("a tenant's webhook URL with a credential in it is never a span attribute", () =>
    Effect.gen(function*() {
      const receiver = yield* fakeWebhookReceiver
      const credential = "receiver-credential-0123456789"
      const path = `/hook?token=${credential}`
      const trace = yield* deliveryTrace("span-hooks", receiver.url(path), () => receiver.on(path).length)
      expect(JSON.stringify(trace)).not.toContain(credential)
    }))

  it.scoped("nor is a token that is the webhook URL's whole userinfo (https://<token>@host)", () =>
    Effect.gen(function*() {
      const receiver = yield* fakeWebhookReceiver
      const credential = "ghp_userinfo-credential-0123456789"
      const url = receiver.url("/userinfo-hook").replace("://", `://${credential}@`)
      const trace = yield* deliveryTrace("span-userinfo", url, () => receiver.on("/userinfo-hook").length)
      expect(JSON.stringify(trace)).not.toContain(credential)
    }))
})
