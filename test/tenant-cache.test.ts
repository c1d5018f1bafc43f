import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Chunk, Effect, Fiber, Stream } from "effect"
import { Notifications } from "../src/Database/Notifications.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, bearer, request, serverSuite } from "./support/TestServer.js"

const tenant = (id: string, extra: Record<string, unknown> = {}) =>
  request("PUT", `/api/v1/admin/tenants/${id}`, {
    headers: adminHeaders,
    json: { tenant_id: id, auth_token: `${id}-token-0123456789`, ...extra }
  })

serverSuite({ ELEVENLABS_API_KEY: "" })("tenant runtime cache", (it) => {
  it.effect("caches tenants on use and reports them", () =>
    Effect.gen(function*() {
      yield* tenant("acme", { org_id: "org-1", twilio: { account_sid: "AC0123456789abcdef0123456789abcdef", auth_token: "x" } })
      yield* tenant("voiced", { audio_output_provider: "elevenlabs" })
      yield* tenant("idle")
      expect((yield* request("GET", "/status", { headers: bearer("acme-token-0123456789") })).status).toBe(200)
      expect((yield* request("GET", "/status", { headers: bearer("acme-token-0123456789") })).status).toBe(200)
      expect((yield* request("GET", "/status", { headers: bearer("voiced-token-0123456789") })).status).toBe(200)

      const cached = yield* request("GET", "/api/v1/admin/tenants/cached", { headers: adminHeaders })
      expect(cached.status).toBe(200)
      expectSpecSchema(cached.body, "AdminCachedTenantsResponse")
      expect(cached.body.tenants.map((t: { tenant_id: string }) => t.tenant_id).sort()).toEqual(["acme", "voiced"])
      const acme = cached.body.tenants.find((t: { tenant_id: string }) => t.tenant_id === "acme")
      expect(acme).toMatchObject({ org_id: "org-1", twilio_configured: true, active_sessions: 0, audio_output_provider: "openai" })

      const metrics = yield* request("GET", "/api/v1/admin/tenants/cache-metrics", { headers: adminHeaders })
      expectSpecSchema(metrics.body, "AdminTenantCacheMetricsResponse")
      expect(metrics.body.cache_entries).toBe(2)
      expect(metrics.body.hits).toBeGreaterThanOrEqual(1)
      expect(metrics.body.misses).toBeGreaterThanOrEqual(2)

      const byToken = yield* request("GET", "/api/v1/admin/tenants/cache-metrics/by-token?limit=1", { headers: adminHeaders })
      expectSpecSchema(byToken.body, "AdminTenantTokenCacheMetricsResponse")
      expect(byToken.body.count).toBe(1)
      expect(byToken.body.items[0]).toMatchObject({ tenant_id: "acme", cache_present: true, hits: 1, misses: 1 })
      expect(byToken.body.items[0].cache_key).toMatch(/^sha256:[0-9a-f]{12}$/)
      expect(byToken.text).not.toContain("acme-token-0123456789")
    }))

  it.effect("reports audio providers and ElevenLabs fallbacks", () =>
    Effect.gen(function*() {
      const cachedOnly = yield* request("GET", "/api/v1/admin/tenants/audio-providers", { headers: adminHeaders })
      expect(cachedOnly.status).toBe(200)
      expectSpecSchema(cachedOnly.body, "AdminAudioProviderDiagnosticsResponse")
      expect(cachedOnly.body).toMatchObject({ cached_tenants: 2, evaluated_tenants: 2, configured_elevenlabs: 1, fallback_active: 1 })
      const voiced = cachedOnly.body.items.find((i: { tenant_id: string }) => i.tenant_id === "voiced")
      expect(voiced).toMatchObject({ configured_provider: "elevenlabs", effective_provider: "openai", fallback_reason: "elevenlabs_not_configured" })
      const all = yield* request("GET", "/api/v1/admin/tenants/audio-providers?include_uncached=true", { headers: adminHeaders })
      expect(all.body).toMatchObject({ include_uncached_requested: true, uncached_tenants: 1, evaluated_tenants: 3 })
      const bad = yield* request("GET", "/api/v1/admin/tenants/audio-providers?include_uncached=maybe", { headers: adminHeaders })
      expect(bad.status).toBe(400)
    }))

  it.effect("reload-cached re-reads every cached tenant and reports the ones that vanished", () =>
    Effect.gen(function*() {
      yield* tenant("doomed")
      yield* request("GET", "/status", { headers: bearer("doomed-token-0123456789") })
      expect((yield* request("GET", "/api/v1/admin/tenants/cached", { headers: adminHeaders })).body.count).toBe(3)
      // Deleted behind the cache's back: straight in the database, no notification.
      const sql = yield* SqlClient.SqlClient
      yield* sql`delete from tenants where tenant_id = 'doomed'`
      const reload = yield* request("POST", "/api/v1/admin/tenants/reload-cached", { headers: adminHeaders })
      expect(reload.status).toBe(200)
      expectSpecSchema(reload.body, "AdminReloadCachedTenantsResponse")
      expect(reload.body).toMatchObject({
        attempted: 3,
        reloaded: 2,
        failures: [{ tenant_id: "doomed", error: "tenant no longer exists" }]
      })
      expect((yield* request("GET", "/api/v1/admin/tenants/cached", { headers: adminHeaders })).body.count).toBe(2)
    }))

  it.effect("an edit evicts the cached copy, so the next request sees it", () =>
    Effect.gen(function*() {
      expect((yield* request("GET", "/status", { headers: bearer("acme-token-0123456789") })).body.org_id).toBe("org-1")
      yield* request("PUT", "/api/v1/admin/tenants/acme/runtime-config", { headers: adminHeaders, json: { org_id: "org-2" } })
      expect((yield* request("GET", "/status", { headers: bearer("acme-token-0123456789") })).body.org_id).toBe("org-2")
    }))

  it.effect("this replica's own notifications are marked local, other senders' are not", () =>
    Effect.gen(function*() {
      const notifications = yield* Notifications
      const sql = yield* SqlClient.SqlClient
      const received = yield* notifications.subscribe("cache_test").pipe(
        Stream.filter((event) => event._tag === "Message"),
        Stream.take(2),
        Stream.runCollect,
        Effect.fork
      )
      // The forked subscriber issues its LISTEN asynchronously; give it a moment.
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 200)))
      yield* notifications.notify("cache_test", "mine")
      yield* sql`select pg_notify('cache_test', 'theirs')`
      const events = Chunk.toReadonlyArray(yield* Fiber.join(received))
      expect(events).toEqual([
        { _tag: "Message", channel: "cache_test", payload: "mine", local: true },
        { _tag: "Message", channel: "cache_test", payload: "theirs", local: false }
      ])
    }))

  it.effect("evict-idle drops entries unused for longer than max_idle_secs", () =>
    Effect.gen(function*() {
      const none = yield* request("POST", "/api/v1/admin/tenants/evict-idle?max_idle_secs=3600", { headers: adminHeaders })
      expectSpecSchema(none.body, "AdminEvictIdleResponse")
      expect(none.body.evicted).toBe(0)
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 1100)))
      const all = yield* request("POST", "/api/v1/admin/tenants/evict-idle?max_idle_secs=0", { headers: adminHeaders })
      expect(all.body.evicted).toBeGreaterThan(0)
      expect(all.body.remaining).toBe(0)
      const negative = yield* request("POST", "/api/v1/admin/tenants/evict-idle?max_idle_secs=-1", { headers: adminHeaders })
      expect(negative.status).toBe(400)
    }))
})
