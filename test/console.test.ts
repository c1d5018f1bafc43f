import { expect, layer } from "@effect/vitest"
import * as HttpServer from "@effect/platform/HttpServer"
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import type { Page } from "playwright-core"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { browserAvailable, ensureConsoleBuilt, launchChromium } from "./support/Browser.js"
import { ACME, ACME_REST, frame, MediaSuite, promise, startCall } from "./support/MediaCalls.js"
import { eventually, eventuallyHolds } from "./support/Eventually.js"
import { FakeOpenAI } from "./support/FakeOpenAIRealtime.js"
import { ADMIN_KEY, request } from "./support/TestServer.js"

const ADMIN = { username: "operator", password: "console-password-42" }
/** Screenshots of the main pages: into docs/console with CONSOLE_SCREENSHOTS=1, else a scratch folder (a test run leaves the tree clean). */
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS === "1"
  ? fileURLToPath(new URL("../docs/console/", import.meta.url))
  : `${fs.mkdtempSync(path.join(os.tmpdir(), "console-shots-"))}/`

/** Three seconds of a 440 Hz tone, 8 kHz 16-bit mono: the fake microphone's input. */
const toneWav = Effect.acquireRelease(
  Effect.sync(() => {
    const rate = 8000
    const samples = rate * 3
    const data = Buffer.alloc(samples * 2)
    for (let i = 0; i < samples; i++) data.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 12000), i * 2)
    const header = Buffer.alloc(44)
    header.write("RIFF", 0)
    header.writeUInt32LE(36 + data.length, 4)
    header.write("WAVEfmt ", 8)
    header.writeUInt32LE(16, 16)
    header.writeUInt16LE(1, 20)
    header.writeUInt16LE(1, 22)
    header.writeUInt32LE(rate, 24)
    header.writeUInt32LE(rate * 2, 28)
    header.writeUInt16LE(2, 32)
    header.writeUInt16LE(16, 34)
    header.write("data", 36)
    header.writeUInt32LE(data.length, 40)
    const file = path.join(os.tmpdir(), `console-mic-${process.pid}-${Date.now()}.wav`)
    fs.writeFileSync(file, Buffer.concat([header, data]))
    return file
  }),
  (file) => Effect.sync(() => fs.rmSync(file, { force: true }))
)

const baseUrl = Effect.map(HttpServer.HttpServer, (server) => {
  const address = server.address
  return `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`
})

const signInAsAdmin = async (page: Page, base: string) => {
  await page.goto(`${base}/console`)
  await page.getByLabel("Username").fill(ADMIN.username)
  await page.getByLabel("Password").fill(ADMIN.password)
  await page.getByRole("button", { name: "Sign in" }).click()
  await page.getByRole("button", { name: "Sign out" }).waitFor()
}

const suite = MediaSuite({ ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password }).pipe(
  Layer.provideMerge(Layer.effectDiscard(ensureConsoleBuilt))
)

layer(suite, { excludeTestServices: true, timeout: 120_000 })("the web console in a real browser", (it) => {
  it.effect.skipIf(!browserAvailable)("an administrator signs in, is refused a wrong password, creates a tenant, a key and an agent", () =>
    Effect.scoped(Effect.gen(function*() {
      const browser = yield* launchChromium()
      const base = yield* baseUrl
      const page = yield* promise(() => browser.newPage())
      const failures: Array<string> = []
      page.on("pageerror", (error) => failures.push(String(error)))

      yield* promise(async () => {
        await page.goto(`${base}/console`)
        await page.getByLabel("Username").fill(ADMIN.username)
        await page.getByLabel("Password").fill("not-the-password")
        await page.getByRole("button", { name: "Sign in" }).click()
        await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/invalid/i)
        await page.getByLabel("Password").fill(ADMIN.password)
        await page.getByRole("button", { name: "Sign in" }).click()
        await page.getByRole("button", { name: "Sign out" }).waitFor()

        await page.getByRole("link", { name: "Tenants" }).click()
        await page.getByLabel("New tenant id").fill("globex")
        await page.getByRole("button", { name: "Create tenant" }).click()
        await page.getByRole("heading", { name: "Tenant globex" }).waitFor()

        // A config document the API refuses: its message is shown, nothing is saved.
        await page.getByLabel("Configuration document (JSON)").fill(`{"tenant_id": "globex", "model": 42}`)
        await page.getByRole("button", { name: "Save", exact: true }).click()
        await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/model/)
        await page.getByLabel("Configuration document (JSON)").fill(`{"tenant_id": "globex", "voice": "verse"}`)
        await page.getByRole("button", { name: "Save", exact: true }).click()
        await page.getByRole("status").filter({ hasText: "Saved." }).waitFor()

        // Secrets: the hint says how markers are kept, and a kept one does not follow its URL elsewhere.
        await page.getByText(/matched to the same item.*another host.*sent again/).waitFor()
        const document = page.getByLabel("Configuration document (JSON)")
        await document.fill(`{"tenant_id": "globex", "voice": "verse", "crm": {"url": "https://a.example/hook", "auth": {"token": "crm-token-1"}}}`)
        await page.getByRole("button", { name: "Save", exact: true }).click()
        await page.getByRole("status").filter({ hasText: "Saved." }).waitFor()
        await expect.poll(() => document.inputValue()).toContain(`"token": "[redacted]"`)
        await document.fill((await document.inputValue()).replace("https://a.example/hook", "https://b.example/hook"))
        await page.getByRole("button", { name: "Save", exact: true }).click()
        await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/config\.crm\.auth\.token .*send the secret again/)
        await document.fill(`{"tenant_id": "globex", "voice": "verse"}`)
        await page.getByRole("button", { name: "Save", exact: true }).click()
        await page.getByRole("status").filter({ hasText: "Saved." }).waitFor()

        await page.getByLabel("Label").fill("ci")
        await page.getByRole("button", { name: "Create API key" }).click()
        await expect.poll(() => page.getByTestId("new-api-key").textContent()).toMatch(/^ssv_/)
        await page.screenshot({ path: `${SCREENSHOTS}tenant.png`, fullPage: true })

        await page.getByRole("link", { name: "Agents" }).click()
        await page.getByLabel("Name").fill("Front desk")
        await page.getByLabel("Key", { exact: true }).fill("front-desk")
        await page.getByRole("button", { name: "Create agent" }).click()
        await page.getByRole("link", { name: "Front desk" }).click()
        await page.getByText("New version").click()
        await page.getByLabel("greeting").fill("Globex, how can I help?")
        await page.getByLabel("instructions").fill("Answer briefly.")
        await page.getByRole("button", { name: "Create version" }).click()
        await page.getByRole("button", { name: "Publish v1" }).click()
        await page.locator(".badge.published").waitFor()
        await page.screenshot({ path: `${SCREENSHOTS}agent.png`, fullPage: true })
      })

      // What the browser did is in the database, through the API.
      const tenant = yield* request("GET", "/api/v1/admin/tenants/globex", { headers: { "x-admin-key": ADMIN_KEY } })
      expect(tenant.status).toBe(200)
      expect(tenant.body.config.voice).toBe("verse")
      const keys = yield* request("GET", "/api/v1/admin/tenants/globex/api-keys", { headers: { "x-admin-key": ADMIN_KEY } })
      expect(keys.body.api_keys.map((k: any) => k.label)).toEqual(["ci"])
      const versions = yield* request("GET", "/api/v1/admin/tenants/globex/agent-versions", { headers: { "x-admin-key": ADMIN_KEY } })
      expect(versions.body.versions.map((v: any) => [v.status, v.config.greeting])).toEqual([["published", "Globex, how can I help?"]])
      expect(failures).toEqual([])

      // Every control has a label, on every page (the accessible name a screen reader announces).
      for (const link of ["Live calls", "Call logs", "Voice sessions", "Insights", "Callbacks", "Agents", "Phone routes", "Tenants"]) {
        yield* promise(() => page.getByRole("link", { name: link }).click())
        yield* promise(() => page.getByRole("heading", { level: 1 }).waitFor())
        const unlabelled = yield* promise(() =>
          page.evaluate(() => {
            // Runs in the page (this file is type-checked without the DOM library).
            const document = (globalThis as any).document
            return Array.from(document.querySelectorAll("input, select, textarea, button") as ArrayLike<any>)
              .filter((el: any) => {
                const labelled = el.getAttribute("aria-label") ?? (el.id === "" ? null : document.querySelector(`label[for="${el.id}"]`)?.textContent)
                const wrapped = el.closest("label")?.textContent
                const text = el.tagName === "BUTTON" ? el.textContent : null
                return !((labelled ?? "").trim() || (wrapped ?? "").trim() || (text ?? "").trim())
              })
              .map((el: any) => String(el.outerHTML).slice(0, 80))
          })
        )
        expect(unlabelled, link).toEqual([])
      }
      // No layout shift while a page loads its data (cumulative layout shift, as browsers measure it).
      const shift = yield* promise(async () => {
        await page.goto(`${base}/console/insights`)
        await page.getByRole("heading", { level: 1 }).waitFor()
        await page.waitForTimeout(1_000)
        return page.evaluate(() =>
          new Promise<number>((resolve) => {
            let total = 0
            new (globalThis as any).PerformanceObserver((list: any) => {
              for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value
            }).observe({ type: "layout-shift", buffered: true })
            setTimeout(() => resolve(total), 200)
          })
        )
      })
      expect(shift).toBeLessThan(0.1)

      // Keyboard: the first Tab reaches the skip link, which moves focus to the page.
      yield* promise(async () => {
        await page.reload()
        await page.getByRole("heading", { level: 1 }).waitFor()
        await page.keyboard.press("Tab")
        expect(await page.evaluate(() => (globalThis as any).document.activeElement?.textContent)).toBe("Skip to content")
      })

      // A session that expires (its row gone, as after 12 hours) sends the user back to sign in, saying why.
      const sql = yield* SqlClient.SqlClient
      yield* sql`update admin_sessions set expires_at = now() - interval '1 minute'`.pipe(Effect.orDie)
      yield* promise(async () => {
        await page.getByRole("link", { name: "Agents" }).click()
        await page.getByText("Your session has ended. Sign in again.").waitFor({ timeout: 10_000 })
        await page.getByLabel("Username").waitFor()
      })
    })))

  it.effect.skipIf(!browserAvailable)("live calls appear and leave as they start and end; a tenant user sees only its own tenant", () =>
    Effect.scoped(Effect.gen(function*() {
      const browser = yield* launchChromium()
      const base = yield* baseUrl
      const adminPage = yield* promise(() => browser.newPage())
      yield* promise(() => signInAsAdmin(adminPage, base))
      yield* promise(() => adminPage.getByLabel("Tenant").selectOption(ACME.tenantId))

      const call = yield* startCall(ACME.tenantId)
      const other = yield* startCall(ACME_REST.tenantId)
      const row = adminPage.getByRole("row").filter({ hasText: "+15551230001" })
      yield* promise(() => row.first().waitFor({ timeout: 10_000 }))
      yield* promise(() => adminPage.screenshot({ path: `${SCREENSHOTS}live-calls.png`, fullPage: true }))

      // A tenant user (acme's bearer token) in a separate browser context.
      const tenantContext = yield* promise(() => browser.newContext())
      const tenantPage = yield* promise(() => tenantContext.newPage())
      yield* promise(async () => {
        await tenantPage.goto(`${base}/console`)
        await tenantPage.getByRole("tab", { name: "Tenant" }).click()
        await tenantPage.getByLabel("API key or dashboard token").fill(ACME.auth.authorization.slice("Bearer ".length))
        await tenantPage.getByRole("button", { name: "Sign in" }).click()
        await tenantPage.getByText(`Tenant ${ACME.tenantId}`).waitFor()
        await tenantPage.getByText("1 live").waitFor({ timeout: 10_000 })
      })
      const tenantNav = yield* promise(() => tenantPage.getByRole("navigation").textContent())
      expect(tenantNav).not.toContain("Tenants")
      expect(tenantNav).not.toContain("Agents")
      const tenantRows = yield* promise(() => tenantPage.locator("tbody tr").count())
      expect(tenantRows).toBe(1)
      // The admin session cookie is not the tenant user's: admin endpoints stay closed to them.
      const adminFromTenant = yield* promise(() =>
        tenantPage.evaluate(async () => (await fetch("/api/v1/admin/tenants")).status)
      )
      expect(adminFromTenant).toBe(401)

      // A supervisor whispers to the agent from the call's panel: the model gets the note.
      yield* promise(async () => {
        await adminPage.getByRole("row").filter({ hasText: "+15551230001" }).getByRole("button", { name: "Open" }).first().click()
        await adminPage.getByLabel("Whisper to the agent").fill("Offer the customer a callback tomorrow")
        await adminPage.getByRole("button", { name: "Whisper", exact: true }).click()
        await adminPage.getByRole("status").filter({ hasText: /whisper/i }).waitFor({ timeout: 10_000 })
      })
      // The panel's live transcript follows the call through the tenant's live log stream.
      yield* promise(() => adminPage.getByText("Live", { exact: true }).waitFor({ timeout: 10_000 }))
      call.upstream.reply({ audio: [frame(7)], transcript: "Which pipe is leaking?" })
      yield* promise(() =>
        adminPage.getByRole("list", { name: "Live transcript" }).getByText("Which pipe is leaking?").waitFor({ timeout: 10_000 })
      )
      yield* promise(() => call.upstream.roundTrip())
      const whispered = call.upstream.eventsOf("conversation.item.create")
        .map((event: any) => JSON.stringify(event.item?.content ?? ""))
      expect(whispered.some((text: string) => text.includes("Offer the customer a callback tomorrow"))).toBe(true)
      yield* promise(() => adminPage.screenshot({ path: `${SCREENSHOTS}live-call-panel.png`, fullPage: true }))

      call.client.stop()
      other.client.stop()
      yield* promise(() => adminPage.getByText("No calls right now.").waitFor({ timeout: 10_000 }))

      // Signing out ends the session: a reload shows the sign-in form again.
      yield* promise(async () => {
        await adminPage.getByRole("button", { name: "Sign out" }).click()
        await adminPage.reload()
        await adminPage.getByLabel("Username").waitFor()
      })
      const afterSignOut = yield* promise(() => adminPage.evaluate(async () => (await fetch("/api/v1/admin/tenants")).status))
      expect(afterSignOut).toBe(401)
    })))

  it.effect.skipIf(!browserAvailable)("talk to an agent from the browser: the microphone reaches the model, its audio and transcript come back, the call is recorded as a console test call (inbound on the wire)", () =>
    Effect.scoped(Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      const admin = { "x-admin-key": ADMIN_KEY }
      const agent = yield* request("POST", `/api/v1/admin/tenants/${ACME.tenantId}/agents`, {
        headers: admin,
        json: { name: "Browser line", agent_key: "browser-line" }
      })
      expect(agent.status).toBe(200)
      const version = yield* request("POST", `/api/v1/admin/tenants/${ACME.tenantId}/agent-versions`, {
        headers: admin,
        json: { agent_id: agent.body.agent.id, config: { greeting: "Hi from the browser line", instructions: "Be brief." } }
      })
      yield* request("POST", `/api/v1/admin/tenants/${ACME.tenantId}/agent-versions/${version.body.version.id}/publish`, { headers: admin })

      const browser = yield* launchChromium({ fakeMicrophoneWav: yield* toneWav })
      const base = yield* baseUrl
      const page = yield* promise(() => browser.newPage())
      yield* promise(() => signInAsAdmin(page, base))
      yield* promise(() => page.getByLabel("Tenant").selectOption(ACME.tenantId))
      const before = fake.connections.length
      yield* promise(async () => {
        await page.goto(`${base}/console/agents/${agent.body.agent.id}`)
        await page.getByRole("button", { name: "Talk to this agent" }).click()
      })
      const upstream = yield* promise(() => fake.connection(before, 15_000))
      // The microphone arrives as 20 ms mu-law frames, passed through to the model.
      yield* eventuallyHolds(Effect.sync(() => upstream.appended.length), (n) => n >= 25, 15_000)
      expect(upstream.appended.slice(0, 25).every((payload) => Buffer.from(payload, "base64").length === 160)).toBe(true)

      upstream.reply({ audio: [frame(1), frame(2), frame(3)], transcript: "Hello from the agent" })
      yield* promise(() => page.getByText("Agent speaking").waitFor({ timeout: 10_000 }))
      yield* promise(() => page.getByText("Listening").waitFor({ timeout: 10_000 }))
      yield* promise(() => page.screenshot({ path: `${SCREENSHOTS}test-call.png`, fullPage: true }))
      yield* promise(() => page.getByRole("button", { name: "Hang up" }).click())

      const recorded = yield* eventually(
        request("GET", "/api/v1/call-logs?direction=web", { headers: ACME.auth }),
        (res) => res.body?.calls?.[0]?.ended_at != null,
        15_000
      )
      expect(recorded.body.calls).toHaveLength(1)
      const detail = yield* request("GET", `/api/v1/call-logs/${recorded.body.calls[0].id}`, { headers: ACME.auth })
      // Listed as the spec's `inbound`, from the console user (the `web` filter above found it).
      expect(detail.body.call.direction).toBe("inbound")
      expect(detail.body.call.from_number).toMatch(/^console:/)
      expect(detail.body.call.call_sid).toMatch(/^WB[0-9a-f]{32}$/)
      expect(detail.body.call.transcript.map((t: any) => t.content)).toContain("Hello from the agent")
    })))

  it.effect("a cross-site write with the admin cookie is refused; the console's assets are cached for good", () =>
    Effect.gen(function*() {
      const login = yield* request("POST", "/api/v1/admin/auth/login", { json: ADMIN })
      expect(login.status).toBe(200)
      const cookie = String(login.headers["set-cookie"]).split(";")[0]!
      expect(String(login.headers["set-cookie"])).toMatch(/HttpOnly; SameSite=Strict/)
      const forged = yield* request("POST", "/api/v1/admin/tenants/evict-idle", {
        headers: { cookie, origin: "https://evil.example", "sec-fetch-site": "cross-site" },
        json: {}
      })
      expect(forged.status).toBe(401)
      expect(forged.body.error ?? forged.body.message ?? JSON.stringify(forged.body)).toMatch(/cross-site/i)
      const sameSite = yield* request("GET", "/api/v1/admin/tenants", { headers: { cookie, "sec-fetch-site": "cross-site" } })
      expect(sameSite.status).toBe(200) // reads are not state-changing

      const page = yield* request("GET", "/console/tenants")
      expect(page.status).toBe(200)
      expect(page.headers["cache-control"]).toBe("no-cache")
      const script = /src="\/console\/assets\/([^"]+\.js)"/.exec(page.text)?.[1]
      expect(script).toBeDefined()
      const asset = yield* request("GET", `/console/assets/${script}`, { headers: { "accept-encoding": "gzip" } })
      expect(asset.status).toBe(200)
      expect(asset.headers["cache-control"]).toContain("immutable")
      expect(asset.headers["content-encoding"]).toBe("gzip")
      // First load under 300 KB of compressed JavaScript.
      expect(Number(asset.headers["content-length"])).toBeLessThan(300_000)
      expect((yield* request("GET", "/console/assets/..%2Fconsole%2Findex.html")).status).toBe(404)
      const redirect = yield* request("GET", "/admin")
      expect([redirect.status, redirect.headers.location]).toEqual([302, "/console"])
    }))
})
