import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import pg from "pg"
import { SHUTDOWN_GOODBYE } from "../src/Health/Lifecycle.js"
import { eventually, eventuallyHolds } from "./support/Eventually.js"
import { makeFakeOpenAIRealtime } from "./support/FakeOpenAIRealtime.js"
import { call, type Launcher, type Replica, signalGroup, startReplica } from "./support/Replicas.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { testDatabaseUrl } from "./support/TestDatabase.js"
import { adminHeaders, bearer } from "./support/TestServer.js"
import { TwilioMediaClient, type Refused } from "./support/TwilioMediaClient.js"

const TOKEN = "drain-token-0123456789"
const GREETING = Buffer.alloc(160, 0x11)
const GOODBYE = Buffer.alloc(160, 0x22)
const DRAIN_SECONDS = 8

const promise = <A>(run: () => Promise<A>) => Effect.promise(run)
const exited = (replica: Replica) => replica.process.exitCode !== null || replica.process.signalCode !== null

/** A call on `replica` (tenant bearer), its greeting heard. */
const dial = (replica: Replica, n: number) =>
  Effect.gen(function*() {
    const client = yield* promise(() => TwilioMediaClient.open(`${replica.baseUrl.replace("http", "ws")}/media-stream`, bearer(TOKEN)))
    const callSid = `CAdrain${String(n).padStart(27, "0")}`
    client.connected()
    client.start({ streamSid: `MZdrain${String(n).padStart(27, "0")}`, callSid, customParameters: { direction: "inbound" } })
    yield* promise(() => client.waitFor("the greeting", () => client.of("media").length >= 1))
    return { client, callSid }
  })

/** The call's log through the API once written, plus its end reason (not exposed: read from the table). */
const callLog = (replica: Replica, databaseUrl: string, callSid: string) =>
  Effect.gen(function*() {
    const res = yield* eventually(
      call(replica, "GET", `/api/v1/call-logs?call_sid=${callSid}`, { headers: bearer(TOKEN) }),
      (res) => res.body?.calls?.[0]?.ended_at != null,
      20_000
    )
    expectSpecSchema(res.body, "CallLogsListResponse")
    const row = yield* promise(async () => {
      const client = new pg.Client({ connectionString: databaseUrl })
      await client.connect()
      try {
        const result = await client.query("select end_reason, transcript_text from call_logs where tenant_id = 'acme' and call_sid = $1", [callSid])
        return result.rows[0] as { end_reason: string; transcript_text: string } | undefined
      } finally {
        await client.end()
      }
    })
    return { ...res.body.calls[0], end_reason: row?.end_reason, transcript_text: row?.transcript_text }
  })

const cases: ReadonlyArray<{ readonly launcher: Launcher; readonly how: string }> = [
  { launcher: "node", how: "to the node process" },
  { launcher: "npm", how: "to the whole process group (npm forwards it again)" }
]

describe("shutdown keeps calls", () => {
  for (const { how, launcher } of cases) {
    it.live(`SIGTERM ${how}: readiness 503, no new call, live calls run on; at the deadline the agent says goodbye`, () =>
      Effect.gen(function*() {
        const fake = yield* makeFakeOpenAIRealtime
        fake.onResponseCreate = (connection, event) => {
          const goodbye = String(event.response?.instructions ?? "").includes("Goodbye")
          connection.reply(goodbye ? { audio: [GOODBYE], transcript: SHUTDOWN_GOODBYE } : { audio: [GREETING], transcript: "Hello!" })
        }
        const url = yield* testDatabaseUrl
        const env = { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: "sk-drain" }
        const [a, b] = yield* Effect.all([
          startReplica(url, { ...env, SHUTDOWN_CALL_DRAIN_SECONDS: String(DRAIN_SECONDS), MEDIA_HANGUP_GRACE_MS: "1000" }, launcher),
          startReplica(url, env)
        ], { concurrency: 2 })
        const put = yield* call(b, "PUT", "/api/v1/admin/tenants/acme", { headers: adminHeaders, json: { tenant_id: "acme", auth_token: TOKEN } })
        expect(put.status).toBe(200)
        const short = yield* dial(a, 1)
        const long = yield* dial(a, 2)

        if (launcher === "npm") yield* signalGroup(a)
        else a.process.kill("SIGTERM")
        const signalledAt = Date.now()
        const ready = yield* eventually(call(a, "GET", "/health/ready"), (res) => res.status === 503)
        expect(ready.body).toMatchObject({ ready: false, status: "draining" })

        // No new call here (SHUTDOWN_GRACE_SECONDS is 0 for test replicas): Twilio's next call goes to B.
        const refused = yield* promise(() =>
          TwilioMediaClient.open(`${a.baseUrl.replace("http", "ws")}/media-stream`, bearer(TOKEN)).then(
            () => undefined,
            (error: Refused) => error
          )
        )
        expect(refused?.status).toBe(503)

        // Both live calls still carry audio after the signal.
        for (const { client } of [short, long]) client.media(Buffer.alloc(160, 0x33))
        yield* promise(() => fake.waitFor("caller audio after the signal", () => fake.connections.every((c) => c.appended.length >= 1)))

        // One call ends on its own, normally.
        short.client.stop()
        const shortLog = yield* callLog(b, url, short.callSid)
        expect(shortLog).toMatchObject({ end_reason: "stop", status: "completed" })

        // The other outlives the drain: it hears the goodbye only at the deadline, then ends.
        // Its mark too: playAll echoes the marks received so far (a missed one is audio never played).
        yield* promise(() =>
          long.client.waitFor(
            "the goodbye and its mark",
            () => long.client.of("media").length >= 2 && long.client.of("mark").length >= 2,
            (DRAIN_SECONDS + 20) * 1000
          )
        )
        expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(DRAIN_SECONDS * 1000 - 500)
        expect(long.client.of("media")[1].media.payload).toBe(GOODBYE.toString("base64"))
        long.client.playAll()
        expect((yield* promise(() => long.client.closed)).code).toBe(1000)
        const longLog = yield* callLog(b, url, long.callSid)
        expect(longLog).toMatchObject({ end_reason: "ended_by_command", status: "completed" })
        expect(longLog.transcript_text).toContain(SHUTDOWN_GOODBYE)

        // Then the replica stops on its own, cleanly; B served throughout.
        yield* eventuallyHolds(Effect.sync(() => exited(a)), (done) => done, 20_000)
        // npm, once node has exited, re-raises the signal it was sent on itself.
        if (launcher === "npm") expect(a.process.signalCode).toBe("SIGTERM")
        else expect(a.process.exitCode).toBe(0)
        expect(a.output()).toContain("drain deadline reached")
        expect((yield* call(b, "GET", "/health/ready")).status).toBe(200)
      }).pipe(Effect.scoped), 120_000)
  }
})
