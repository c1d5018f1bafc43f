import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { EgressConfig } from "../src/Egress/Config.js"
import { GuardedHttpClient } from "../src/Egress/GuardedHttpClient.js"
import { OutboundUrls } from "../src/Egress/OutboundUrls.js"
import { EgressResolver, type Resolve } from "../src/Egress/Resolver.js"
import { Ids } from "../src/Ids.js"
import { post } from "../src/Outbox/Send.js"
import type { TenantConfig } from "../src/Tenants/Config.js"
import { signedPost } from "../src/Tools/SignedPost.js"
import { fakeWebhookReceiver } from "./support/FakeWebhookReceiver.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, request, serverSuite } from "./support/TestServer.js"

/** Names resolve from this table (the injectable resolver), as an attacker's DNS would answer. */
const fakeDns = (table: Record<string, string>) => {
  const resolve: Resolve = (hostname, callback) => {
    const address = table[hostname]
    if (address === undefined) return callback(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: "ENOTFOUND" }), [])
    callback(null, [{ address, family: 4 }])
  }
  return Layer.succeed(EgressResolver, EgressResolver.make({ resolve }))
}

/** The delivery path's client and URL check, with ALLOW_PRIVATE_OUTBOUND_URLS off. */
const guarded = Layer.mergeAll(OutboundUrls.DefaultWithoutDependencies, GuardedHttpClient.DefaultWithoutDependencies).pipe(
  Layer.provide(fakeDns({ "intranet.example.com": "10.0.0.7", "rebound.example.com": "127.0.0.1" })),
  Layer.provide(EgressConfig.Default),
  Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["ALLOW_PRIVATE_OUTBOUND_URLS", "false"]]))))
)

describe("webhook and billing deliveries refuse private addresses when they connect", () => {
  it.scoped("loopback, metadata and a name resolving to 10.x are refused; nothing reaches the receiver", () =>
    Effect.gen(function*() {
      const receiver = yield* fakeWebhookReceiver
      const port = new URL(receiver.url("/")).port
      const { client } = yield* GuardedHttpClient
      const attempt = (url: string) => post(client, url, { "webhook-id": "msg_1" }, "{}")
      const refusals = [
        [`https://127.0.0.1:${port}/hook`, "private or reserved address"],
        ["https://169.254.169.254/latest/meta-data/iam", "private or reserved address"],
        ["https://intranet.example.com/hook", "10.0.0.7"],
        [`https://rebound.example.com:${port}/hook`, "127.0.0.1"],
        [receiver.url("/plain-http"), "only https"]
      ] as const
      for (const [url, reason] of refusals) {
        const result = yield* attempt(url)
        expect(result._tag, url).toBe("Rejected")
        expect(result._tag === "Rejected" ? result.error : "", url).toContain(reason)
      }
      expect(receiver.received).toHaveLength(0)
      expect(receiver.hanging()).toBe(0)

      const urls = yield* OutboundUrls
      const refused = yield* Effect.flip(urls.check("https://intranet.example.com/hook", { requireResolvable: false }))
      expect(refused.message).toContain("10.0.0.7")
      // A name that does not resolve yet may be configured; the connect-time guard still applies.
      expect((yield* urls.check("https://not-yet.example.com/hook", { requireResolvable: false })).hostname).toBe("not-yet.example.com")
    }).pipe(Effect.provide(guarded)))
})

describe("a failed delivery or tool call names the URL without its credential", () => {
  it.scoped("even when the URL holds a space, a quote or a parenthesis before its token", () =>
    Effect.gen(function*() {
      const { client } = yield* GuardedHttpClient
      const urls = [
        "https://intranet.example.com/a b?token=secret-space", // refused when connecting (its message names it)
        "https://nowhere.example.com/a b?token=secret-transport", // does not resolve: the client's transport error
        "https://intranet.example.com/(v1)?token=secret-paren",
        "https://nowhere.example.com/o'hara?api_key=secret-quote"
      ]
      for (const url of urls) {
        const delivery = yield* post(client, url, {}, "{}")
        const tool = yield* signedPost({ tenant_id: "t" } as TenantConfig, url, {}, 5_000)
        for (const text of [delivery._tag === "Rejected" ? delivery.error : "", tool._tag === "Failed" ? tool.message : ""]) {
          expect(text, url).toContain("[redacted]")
          expect(text, url).not.toMatch(/secret-/)
        }
      }
    }).pipe(Effect.provide(Layer.merge(guarded, Ids.Default))))
})

serverSuite()("a tenant webhook_url is checked when it is configured", (it) => {
  it.effect("private, metadata and plain-http URLs are a 400 naming webhook_url; a public https URL is accepted", () =>
    Effect.gen(function*() {
      const put = (url: string) =>
        request("PUT", "/api/v1/admin/tenants/ssrf", { headers: adminHeaders, json: { tenant_id: "ssrf", webhook_url: url } })
      for (
        const [url, reason] of [
          ["https://127.0.0.1/hook", "private or reserved address"],
          ["https://[::1]/hook", "private or reserved address"],
          ["https://169.254.169.254/latest/meta-data", "private or reserved address"],
          ["https://10.1.2.3/hook", "private or reserved address"],
          ["https://localhost/hook", "local host"],
          ["http://hooks.example.com/hook", "only https"]
        ] as const
      ) {
        const res = yield* put(url)
        expect(res.status, url).toBe(400)
        expectSpecSchema(res.body, "AdminErrorResponse")
        expect(res.body.error).toContain("webhook_url")
        expect(res.body.error).toContain(reason)
      }
      expect((yield* put("https://hooks.example.com/stateset")).status).toBe(200)
      const patched = yield* request("PUT", "/api/v1/admin/tenants/ssrf/runtime-config", {
        headers: adminHeaders,
        json: { webhook_url: "https://169.254.169.254/latest/meta-data" }
      })
      expect(patched.status).toBe(400)
      expect(patched.body.error).toContain("webhook_url")
      const stored = yield* request("GET", "/api/v1/admin/tenants/ssrf", { headers: adminHeaders })
      expect(stored.body.config.webhook_url).toBe("https://hooks.example.com/stateset")
    }))
})
