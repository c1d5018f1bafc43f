import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { createAgent, createVersion } from "./support/AgentFixtures.js"
import { within } from "./support/Bounded.js"
import { eventually } from "./support/Eventually.js"
import { FakeOpenAI } from "./support/FakeOpenAIRealtime.js"
import { ACME, ACME_REST, frame, MediaSuite, promise } from "./support/MediaCalls.js"
import { mediaStreamUrl, TwilioMediaClient } from "./support/TwilioMediaClient.js"
import { WebSocket } from "ws"

/** Issue 7, row 6: a tenant-key media socket whose start event carries values we cannot trust or store. */

interface Stored {
  readonly agent_version_id: string | null
  readonly from_number: string | null
  readonly status: string
}

const storedCall = (streamSid: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql<Stored>`
      select agent_version_id::text, from_number, status from call_logs
      where tenant_id = 'acme' and stream_sid = ${streamSid}`.pipe(Effect.orDie)
  })

/** A call on the tenant-key path with `customParameters`: runs, hears the greeting, hangs up. */
const tenantKeyCall = (streamSid: string, customParameters: Record<string, string>) =>
  Effect.gen(function*() {
    const url = yield* mediaStreamUrl()
    const client = yield* promise(() => TwilioMediaClient.open(url, ACME.auth))
    client.connected()
    client.start({ streamSid, callSid: `CA${streamSid.slice(2)}`, customParameters })
    yield* promise(() => client.waitFor("the greeting", () => client.of("media").length >= 1))
    client.stop()
    expect((yield* promise(() => client.closed)).code).toBe(1000)
    const rows = yield* eventually(storedCall(streamSid), (rows) => rows.length === 1, 10_000)
    expect(rows).toHaveLength(1)
    return rows[0]!
  })

/**
 * A raw socket to the media route, for frames TwilioMediaClient would not send. Opening and
 * `closed` (the close code) fail naming the step after 15 and 20 s.
 */
const rawSocket = (url: string, headers: Record<string, string> = {}) =>
  within(15_000, `open a raw media socket to ${url}`, new Promise<{ ws: WebSocket; readonly closed: Promise<number> }>((resolve, reject) => {
    const ws = new WebSocket(url, { headers })
    const closing = new Promise<number>((done) => ws.on("close", (code) => done(code)))
    ws.once("open", () =>
      resolve({
        ws,
        get closed() {
          return within(20_000, "the raw media socket to close", closing)
        }
      }))
    ws.once("unexpected-response", (_req, res) => reject(new Error(`status ${res.statusCode}`)))
    ws.once("error", reject)
  }))

layer(MediaSuite({ MEDIA_MAX_PENDING_PER_ADDRESS: "2" }), { excludeTestServices: true })("tenant-key media path with hostile custom parameters", (it) => {
  it.effect("an agent_version_id that is not a UUID, or another tenant's, is ignored; the call is recorded", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      fake.onResponseCreate = (connection) => connection.reply({ audio: [frame(1)], transcript: "Hello!" })
      const notUuid = yield* tenantKeyCall("MZhostile0000000000000000000000001", { agent_version_id: "not-a-uuid", from: "+15551230001" })
      expect(notUuid).toMatchObject({ agent_version_id: null, from_number: "+15551230001" })

      const agent = yield* createAgent(ACME_REST.tenantId, "foreign")
      const foreign = yield* createVersion(ACME_REST.tenantId, agent.id)
      const stolen = yield* tenantKeyCall("MZhostile0000000000000000000000002", { agent_version_id: foreign.id })
      expect(stolen.agent_version_id).toBeNull()
    }))

  it.effect("a NUL or lone surrogate in from/to/greeting is dropped, never a lost record", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      fake.onResponseCreate = (connection) => connection.reply({ audio: [frame(1)], transcript: "Hello!" })
      const nul = yield* tenantKeyCall("MZhostile0000000000000000000000003", {
        from: "+1555\u0000123",
        to: "\uD800",
        greeting: "hi\u0000there"
      })
      expect(nul).toMatchObject({ from_number: null })
      const huge = yield* tenantKeyCall("MZhostile0000000000000000000000004", { from: "9".repeat(10_000) })
      expect(huge.from_number).toBeNull()
    }))

  it.effect("row 8: a large frame before start closes the socket with 1009 (ours past a few KB, ws's past maxPayload)", () =>
    Effect.gen(function*() {
      const url = yield* mediaStreamUrl()
      const medium = yield* promise(() => rawSocket(url))
      medium.ws.send(JSON.stringify({ event: "media", media: { payload: "A".repeat(20_000) } }))
      expect(yield* promise(() => medium.closed)).toBe(1009)
      const huge = yield* promise(() => rawSocket(url))
      huge.ws.send(Buffer.alloc(5 * 1024 * 1024, 65).toString())
      expect(yield* promise(() => huge.closed)).toBe(1009)
    }))

  it.effect("row 7: pending (unauthenticated) media sockets are bounded per client address", () =>
    Effect.gen(function*() {
      const url = yield* mediaStreamUrl()
      const first = yield* promise(() => rawSocket(url))
      const second = yield* promise(() => rawSocket(url))
      const third = yield* promise(() => rawSocket(url).then(() => "open", (error: Error) => error.message))
      expect(third).toBe("status 429")
      // Another address (behind the trusted proxy) is not affected.
      const other = yield* promise(() => rawSocket(url, { "x-forwarded-for": "198.51.100.99" }))
      other.ws.close()
      first.ws.close()
      second.ws.close()
      yield* promise(() => Promise.all([first.closed, second.closed]))
      // Closed sockets free their slots.
      const again = yield* eventually(
        promise(() => rawSocket(url).then((s) => { s.ws.close(); return "open" }, (error: Error) => error.message)),
        (result) => result === "open",
        5_000
      )
      expect(again).toBe("open")
    }))

  it.effect("a start event whose streamSid holds a NUL is refused, not run unrecorded", () =>
    Effect.gen(function*() {
      const url = yield* mediaStreamUrl()
      const client = yield* promise(() => TwilioMediaClient.open(url, ACME.auth))
      client.connected()
      client.start({ streamSid: "MZbad\u0000sid", callSid: "CAbad", customParameters: {} })
      const closed = yield* promise(() => client.closed)
      expect(closed.code).toBe(1008)
    }))
})
