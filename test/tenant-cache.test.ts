import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { type Notification, Notifications } from "../src/Database/Notifications.js"
import { eventually, eventuallyHolds } from "./support/Eventually.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, bearer, request, testClockSuite } from "./support/TestServer.js"

const tokenOf = (id: string) => `${id}-token-0123456789`

const tenant = (id: string, extra: Record<string, unknown> = {}) =>
  request("PUT", `/api/v1/admin/tenants/${id}`, {
    headers: adminHeaders,
    json: { tenant_id: id, auth_token: tokenOf(id), ...extra }
  }).pipe(Effect.filterOrDie((res) => res.status === 200, (res) => new Error(`tenant ${id}: ${res.status} ${res.text}`)))

/** A request authenticated by the tenant's legacy token: what loads it into the cache. */
const use = (id: string) => request("GET", "/status", { headers: bearer(tokenOf(id)) })

const admin = (method: "GET" | "POST", path: string) => request(method, `/api/v1/admin/tenants${path}`, { headers: adminHeaders })

const cachedIds = Effect.map(admin("GET", "/cached"), (res) => res.body.tenants.map((t: { tenant_id: string }) => t.tenant_id).sort())

/**
 * Starts a test from an empty cache, whatever ran before: the server runs on the suite's
 * TestClock, so a second later everything is idle and `max_idle_secs=0` drops it all.
 */
const emptyCache = Effect.gen(function*() {
  yield* TestClock.adjust("1 second")
  const res = yield* admin("POST", "/evict-idle?max_idle_secs=0")
  expect(res.body.remaining).toBe(0)
})

testClockSuite({ ELEVENLABS_API_KEY: "" })("tenant runtime cache", (it) => {
  it.effect("caches tenants on use and reports them", () =>
    Effect.gen(function*() {
      yield* emptyCache
      const before = (yield* admin("GET", "/cache-metrics")).body
      yield* tenant("report-acme", { org_id: "org-1", twilio: { account_sid: "AC0123456789abcdef0123456789abcdef", auth_token: "x" } })
      yield* tenant("report-voiced", { audio_output_provider: "elevenlabs" })
      yield* tenant("report-idle")
      expect((yield* use("report-acme")).status).toBe(200)
      expect((yield* use("report-acme")).status).toBe(200)
      expect((yield* use("report-voiced")).status).toBe(200)

      const cached = yield* admin("GET", "/cached")
      expect(cached.status).toBe(200)
      expectSpecSchema(cached.body, "AdminCachedTenantsResponse")
      expect(yield* cachedIds).toEqual(["report-acme", "report-voiced"])
      const acme = cached.body.tenants.find((t: { tenant_id: string }) => t.tenant_id === "report-acme")
      expect(acme).toMatchObject({ org_id: "org-1", twilio_configured: true, active_sessions: 0, audio_output_provider: "openai" })

      const metrics = yield* admin("GET", "/cache-metrics")
      expectSpecSchema(metrics.body, "AdminTenantCacheMetricsResponse")
      expect(metrics.body.cache_entries).toBe(2)
      expect(metrics.body.hits - before.hits).toBeGreaterThanOrEqual(1)
      expect(metrics.body.misses - before.misses).toBeGreaterThanOrEqual(2)

      const byToken = yield* admin("GET", "/cache-metrics/by-token")
      expectSpecSchema(byToken.body, "AdminTenantTokenCacheMetricsResponse")
      const acmeToken = byToken.body.items.find((item: { tenant_id: string | null }) => item.tenant_id === "report-acme")
      expect(acmeToken).toMatchObject({ cache_present: true, hits: 1, misses: 1 })
      expect(acmeToken.cache_key).toMatch(/^sha256:[0-9a-f]{12}$/)
      expect(byToken.text).not.toContain(tokenOf("report-acme"))
      expect((yield* admin("GET", "/cache-metrics/by-token?limit=1")).body.count).toBe(1)
    }))

  it.effect("reports audio providers and ElevenLabs fallbacks", () =>
    Effect.gen(function*() {
      yield* emptyCache
      yield* tenant("audio-voiced", { audio_output_provider: "elevenlabs" })
      yield* tenant("audio-plain")
      yield* tenant("audio-idle")
      yield* use("audio-voiced")
      yield* use("audio-plain")

      const cachedOnly = yield* admin("GET", "/audio-providers")
      expect(cachedOnly.status).toBe(200)
      expectSpecSchema(cachedOnly.body, "AdminAudioProviderDiagnosticsResponse")
      expect(cachedOnly.body).toMatchObject({ cached_tenants: 2, evaluated_tenants: 2, configured_elevenlabs: 1, fallback_active: 1 })
      const voiced = cachedOnly.body.items.find((i: { tenant_id: string }) => i.tenant_id === "audio-voiced")
      expect(voiced).toMatchObject({ configured_provider: "elevenlabs", effective_provider: "openai", fallback_reason: "elevenlabs_not_configured" })

      const all = yield* admin("GET", "/audio-providers?include_uncached=true")
      expect(all.body).toMatchObject({ include_uncached_requested: true, cached_tenants: 2 })
      expect(all.body.uncached_tenants).toBe(all.body.evaluated_tenants - 2)
      expect(all.body.items.find((i: { tenant_id: string }) => i.tenant_id === "audio-idle")).toMatchObject({ cached: false })
      const bad = yield* admin("GET", "/audio-providers?include_uncached=maybe")
      expect(bad.status).toBe(400)
    }))

  it.effect("reload-cached re-reads every cached tenant and reports the ones that vanished", () =>
    Effect.gen(function*() {
      yield* emptyCache
      yield* tenant("reload-kept")
      yield* tenant("reload-doomed")
      yield* use("reload-kept")
      yield* use("reload-doomed")
      expect(yield* cachedIds).toEqual(["reload-doomed", "reload-kept"])
      // Deleted behind the cache's back: straight in the database, no notification.
      const sql = yield* SqlClient.SqlClient
      yield* sql`delete from tenants where tenant_id = 'reload-doomed'`
      const reload = yield* admin("POST", "/reload-cached")
      expect(reload.status).toBe(200)
      expectSpecSchema(reload.body, "AdminReloadCachedTenantsResponse")
      expect(reload.body).toMatchObject({
        attempted: 2,
        reloaded: 1,
        failures: [{ tenant_id: "reload-doomed", error: "tenant no longer exists" }]
      })
      expect(yield* cachedIds).toEqual(["reload-kept"])
    }))

  it.effect("an edit evicts the cached copy, so the next request sees it", () =>
    Effect.gen(function*() {
      yield* tenant("edited", { org_id: "org-1" })
      expect((yield* use("edited")).body.org_id).toBe("org-1")
      yield* request("PUT", "/api/v1/admin/tenants/edited/runtime-config", { headers: adminHeaders, json: { org_id: "org-2" } })
      expect((yield* use("edited")).body.org_id).toBe("org-2")
    }))

  it.scoped("this replica's own notifications are marked local, other senders' are not", () =>
    Effect.gen(function*() {
      const notifications = yield* Notifications
      const sql = yield* SqlClient.SqlClient
      const heard: Array<Notification> = []
      const received = Effect.sync(() => [...heard])
      yield* notifications.on("cache_test", (event) => {
        if (event._tag === "Message") heard.push(event)
      })
      // Probe until one gets through (LISTEN waits for a connection that may still be coming).
      yield* eventuallyHolds(
        Effect.zipRight(notifications.notify("cache_test", "probe"), received),
        (events) => events.length > 0
      )
      yield* notifications.notify("cache_test", "mine")
      yield* sql`select pg_notify('cache_test', 'theirs')`
      const events = yield* eventually(received, (all) => all.some((e) => e._tag === "Message" && e.payload === "theirs"))
      expect(events.filter((e) => e._tag === "Message" && e.payload !== "probe")).toEqual([
        { _tag: "Message", channel: "cache_test", payload: "mine", local: true },
        { _tag: "Message", channel: "cache_test", payload: "theirs", local: false }
      ])
    }))

  it.effect("evict-idle drops entries unused for longer than max_idle_secs", () =>
    Effect.gen(function*() {
      yield* emptyCache
      yield* tenant("idler")
      yield* use("idler")
      const none = yield* admin("POST", "/evict-idle?max_idle_secs=60")
      expectSpecSchema(none.body, "AdminEvictIdleResponse")
      expect(none.body).toMatchObject({ evicted: 0, remaining: 1 })
      yield* TestClock.adjust("60 seconds")
      expect((yield* admin("POST", "/evict-idle?max_idle_secs=60")).body).toMatchObject({ evicted: 0, remaining: 1 })
      yield* TestClock.adjust("1 second")
      expect((yield* admin("POST", "/evict-idle?max_idle_secs=60")).body).toMatchObject({ evicted: 1, remaining: 0 })
      expect(yield* cachedIds).toEqual([])
      const negative = yield* admin("POST", "/evict-idle?max_idle_secs=-1")
      expect(negative.status).toBe(400)
    }))
})
