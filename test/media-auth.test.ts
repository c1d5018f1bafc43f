import { expect, it, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Deferred, Effect, Exit, Fiber, Layer, Scope } from "effect"
import { type StreamClaims, StreamTokens } from "../src/Auth/StreamTokens.js"
import { eventually, eventuallyHolds } from "./support/Eventually.js"
import { FakeOpenAI, withFakeOpenAI } from "./support/FakeOpenAIRealtime.js"
import { adminHeaders, bearer, makeTestServer, request } from "./support/TestServer.js"
import { atTime } from "./support/TestTime.js"
import { mediaStreamUrl, type Refused, TwilioMediaClient } from "./support/TwilioMediaClient.js"

const promise = <A>(run: () => Promise<A>) => Effect.promise(run)

const refusal = (attempt: Promise<TwilioMediaClient>) =>
  attempt.then(
    (client) => {
      client.close()
      return { status: 101, body: "" } satisfies Refused
    },
    (refused: Refused) => refused
  )

const TENANT_TOKEN = "acme-token-0123456789"

let n = 0
const claims = (overrides: Partial<StreamClaims> = {}): StreamClaims => ({
  tenantId: "acme",
  callSid: `CA${String(++n).padStart(32, "0")}`,
  agentVersionId: null,
  direction: "inbound",
  from: "+15551230001",
  to: "+15551230002",
  ...overrides
})

const mint = (c: StreamClaims) => Effect.flatMap(StreamTokens, (tokens) => tokens.mint(c))

/** The service with a fake OpenAI Realtime and tenant acme. */
const suite = (config: Record<string, string>) =>
  withFakeOpenAI((fake) =>
    Layer.effectDiscard(
      request("PUT", "/api/v1/admin/tenants/acme", {
        headers: adminHeaders,
        json: { tenant_id: "acme", auth_token: TENANT_TOKEN }
      }).pipe(Effect.tap((res) => expect(res.status).toBe(200)))
    ).pipe(Layer.provideMerge(makeTestServer({ OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: "sk-test", ...config })))
  )

let streams = 0

/** Opens a socket and sends `start`; resolves with the upstream connection or the close. */
const startWith = (options: { query?: string; headers?: Record<string, string>; claims?: StreamClaims; token?: string }) =>
  Effect.gen(function*() {
    const fake = yield* FakeOpenAI
    const url = yield* mediaStreamUrl(options.query ?? "")
    const before = fake.connections.length
    const client = yield* promise(() => TwilioMediaClient.open(url, options.headers))
    client.connected()
    client.start({
      streamSid: `MZ${String(++streams).padStart(32, "0")}`, // each call its own stream, as Twilio's are
      callSid: options.claims?.callSid,
      customParameters: options.token === undefined ? {} : { stream_token: options.token }
    })
    // A refused stream resolves with its close at once; an accepted one may take seconds to
    // reach the upstream on a loaded machine: the bound is only for a stream that does neither.
    const outcome = yield* promise(() =>
      Promise.race([
        fake.connection(before, 15_000).then(() => "connected" as const, () => "no upstream" as const),
        client.closed.then((closed) => closed)
      ])
    )
    return { client, outcome }
  })

/**
 * Holds every stream token's spend (its one statement with the ledger row) behind a lock until
 * `release`; `waiting` resolves once a spend is blocked on it.
 */
const blockSpends = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const locked = yield* Deferred.make<void>()
  const release = yield* Deferred.make<void>()
  const holder = yield* Effect.fork(sql.withTransaction(Effect.gen(function*() {
    yield* sql`lock table stream_token_uses in share mode`
    yield* Deferred.succeed(locked, undefined)
    yield* Deferred.await(release)
  })))
  yield* Deferred.await(locked)
  return {
    waiting: eventuallyHolds(
      sql<{ n: number }>`select count(*)::int as n from pg_locks where relation = 'stream_token_uses'::regclass and not granted`,
      (rows) => rows[0]!.n > 0
    ),
    release: Effect.zipRight(Deferred.succeed(release, undefined), Effect.orDie(holder.await))
  }
})

/**
 * A call started with its token's spend held (`blockSpends`), once its model has been asked for
 * the greeting: the caller's socket, the call's upstream and the held spend.
 */
const startWhileSpendHeld = (claims: StreamClaims, token: string) =>
  Effect.gen(function*() {
    const fake = yield* FakeOpenAI
    const spend = yield* blockSpends
    const { client, outcome } = yield* startWith({ claims, token })
    expect(outcome).toBe("connected")
    const upstream = fake.connections[fake.connections.length - 1]!
    yield* promise(() => fake.waitFor("the greeting's response.create", () => upstream.eventsOf("response.create").length > 0))
    return { client, upstream, spend }
  })

/**
 * A call started with a freshly minted token and connected: the claims and token a replay reuses.
 */
const firstCallConnected = Effect.gen(function*() {
  const c = claims()
  const token = yield* mint(c)
  const first = yield* startWith({ claims: c, token })
  expect(first.outcome).toBe("connected")
  return { c, token, first }
})

/** The call's records, once one is written (then any second one would be too). */
const recordsOf = (callSid: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    eventually(
      sql<{ end_reason: string; transcript_text: string }>`
        select end_reason, transcript_text from call_logs where tenant_id = 'acme' and call_sid = ${callSid}`,
      (rows) => rows.length > 0
    ))

const BOOTSTRAP_TIMEOUT_MS = 600

layer(suite({
  MEDIA_BOOTSTRAP_TIMEOUT_MS: String(BOOTSTRAP_TIMEOUT_MS),
  MEDIA_MAX_PENDING_BOOTSTRAP: "3"
}), { excludeTestServices: true })("media stream authentication", (it) => {
  it.effect("a plain GET is the spec's 400, in text", () =>
    Effect.gen(function*() {
      const res = yield* request("GET", "/media-stream")
      expect(res.status).toBe(400)
      expect(res.headers["content-type"]).toContain("text/plain")
      expect(res.text).toBe("Missing WebSocket upgrade headers")
    }))

  it.effect("a token in customParameters (Twilio's way) starts the call", () =>
    Effect.gen(function*() {
      const c = claims()
      const { client, outcome } = yield* startWith({ claims: c, token: yield* mint(c) })
      expect(outcome).toBe("connected")
      client.stop()
      expect((yield* promise(() => client.closed)).code).toBe(1000)
    }))

  it.effect("the stream_token query parameter is checked before the upgrade", () =>
    Effect.gen(function*() {
      const c = claims()
      const ok = yield* startWith({ query: `?stream_token=${encodeURIComponent(yield* mint(c))}`, claims: c })
      expect(ok.outcome).toBe("connected")
      ok.client.stop()
      const url = yield* mediaStreamUrl("?stream_token=v1.bogus.signature")
      const refused = yield* promise(() => refusal(TwilioMediaClient.open(url)))
      expect(refused.status).toBe(401)
      expect(refused.body).toContain("signature")
    }))

  it.effect("a tenant bearer header authenticates internal clients; a wrong one is 401", () =>
    Effect.gen(function*() {
      const ok = yield* startWith({ headers: bearer(TENANT_TOKEN) })
      expect(ok.outcome).toBe("connected")
      ok.client.stop()
      const url = yield* mediaStreamUrl()
      const refused = yield* promise(() => refusal(TwilioMediaClient.open(url, bearer("not-a-real-token-123456"))))
      expect(refused.status).toBe(401)
    }))

  it.effect("a replayed token is refused at the socket", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      const { c, first, token } = yield* firstCallConnected
      first.client.stop()
      const before = fake.connections.length
      const replay = yield* startWith({ claims: c, token })
      const closed = replay.outcome === "connected" ? yield* promise(() => replay.client.closed) : replay.outcome
      expect(closed).toMatchObject({ code: 1008, reason: expect.stringContaining("already used") })
      for (const upstream of fake.connections.slice(before)) {
        yield* promise(() => fake.waitFor("the replay's upstream closed", () => upstream.closed))
      }
      expect(replay.client.of("media")).toEqual([])
    }))

  it.effect("one token on two sockets at once starts one call: one ledger row, one upstream, the other refused", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      const sql = yield* SqlClient.SqlClient
      const c = claims()
      const token = yield* mint(c)
      const before = fake.connections.length
      const url = yield* mediaStreamUrl()
      const clients = yield* promise(() => Promise.all([0, 1].map(() => TwilioMediaClient.open(url))))
      for (const client of clients) {
        client.connected()
        client.start({
          streamSid: `MZ${String(++streams).padStart(32, "0")}`,
          callSid: c.callSid,
          customParameters: { stream_token: token }
        })
      }
      yield* promise(() => fake.connection(before))
      const closed = yield* promise(() => Promise.race(clients.map((client, i) => client.closed.then((close) => ({ i, close })))))
      expect(closed.close).toMatchObject({ code: 1008, reason: expect.stringContaining("already used") })
      const live = yield* sql<{ stream_sid: string }>`select stream_sid from live_calls where tenant_id = 'acme' and call_sid = ${c.callSid}`
      expect(live).toHaveLength(1)
      // Each socket may open an upstream and speak to it while the token is spent; the refused
      // one's is closed, and its socket got no frame of what its model said.
      const refused = clients[closed.i]!
      expect(refused.received).toEqual([])
      const survivor = clients[1 - closed.i]!
      yield* promise(() => survivor.waitFor("the held call's greeting", () => survivor.of("media").length > 0))
      const open = yield* promise(() =>
        fake.waitFor("the refused call's upstream closed", () => {
          const open = fake.connections.slice(before).filter((u) => !u.closed)
          return open.length === 1 && open
        })
      )
      expect(open[0]!.eventsOf("session.update")).toHaveLength(1)
      survivor.stop()
      expect((yield* promise(() => survivor.closed)).code).toBe(1000)
    }))

  // The token's spend (one statement with the ledger row) is held up behind a lock, so each
  // step below happens while it is still in flight.
  it.effect("the model is spoken to while the token is spent; the caller hears it only once the spend commits", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      const sql = yield* SqlClient.SqlClient
      const c = claims()
      const token = yield* mint(c)
      const spend = yield* blockSpends
      const { client, outcome } = yield* startWith({ claims: c, token })
      expect(outcome).toBe("connected")
      const upstream = fake.connections[fake.connections.length - 1]!
      client.media(Buffer.alloc(160, 0x11))
      yield* promise(() => fake.waitFor("the greeting's response.create", () => upstream.eventsOf("response.create").length > 0))
      yield* promise(() => fake.waitFor("the caller's audio relayed up", () => upstream.appended.length > 0))
      expect(upstream.received.map((e) => e.type).slice(0, 2)).toEqual(["session.update", "response.create"])
      yield* spend.waiting
      // The model has answered the greeting (the service has read it all): none of it reached the caller.
      yield* promise(() => upstream.roundTrip())
      yield* promise(() => client.roundTrip())
      expect(client.received).toEqual([])
      const ledger = yield* sql`select 1 from live_calls where tenant_id = 'acme' and call_sid = ${c.callSid}`
      expect(ledger).toHaveLength(0)
      // More than an upstream socket holds unheard (HELD_BYTES): it stops reading, loses nothing.
      const more = Array.from({ length: 80 }, (_, i) => Buffer.alloc(1600, i))
      upstream.reply({ audio: more, transcript: "Welcome to Acme." })

      yield* spend.release
      const expected = Buffer.concat([Buffer.alloc(160, 0x7f), ...more])
      yield* promise(() => client.waitFor("the model's audio", () => client.audio().length === expected.length))
      expect(client.audio()).toEqual(expected)
      client.stop()
      expect((yield* promise(() => client.closed)).code).toBe(1000)
      const records = yield* recordsOf(c.callSid!)
      expect(records).toHaveLength(1)
      expect(records[0]!.end_reason).toBe("stop")
      expect(records[0]!.transcript_text).toContain("Hello, how can I help?")
      expect(records[0]!.transcript_text).toContain("Welcome to Acme.")
    }))

  it.effect("a replay's model is spoken to while its token is checked, but its socket gets 1008 and no frame of it", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      const { c, first, token } = yield* firstCallConnected
      const firstUpstream = fake.connections[fake.connections.length - 1]!
      yield* promise(() => first.client.waitFor("the first call's greeting", () => first.client.of("media").length > 0))
      const replay = yield* startWhileSpendHeld(c, token)
      const { upstream, spend } = replay
      expect(upstream).not.toBe(firstUpstream)
      yield* spend.waiting
      yield* promise(() => upstream.roundTrip()) // its greeting's audio has reached the service

      yield* spend.release
      const closed = yield* promise(() => replay.client.closed)
      expect(closed).toMatchObject({ code: 1008, reason: expect.stringContaining("already used") })
      expect(replay.client.received).toEqual([])
      yield* promise(() => fake.waitFor("the replay's upstream closed", () => upstream.closed))
      // The first call goes on, and is the only one recorded.
      first.client.stop()
      expect((yield* promise(() => first.client.closed)).code).toBe(1000)
      expect(yield* recordsOf(c.callSid!)).toHaveLength(1)
    }))

  it.effect("a hang-up while the token is spent ends the call once: recorded once, nothing sent to the caller", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      const sql = yield* SqlClient.SqlClient
      const c = claims()
      const { client, upstream, spend } = yield* startWhileSpendHeld(c, yield* mint(c))
      yield* spend.waiting
      yield* promise(() => upstream.roundTrip())
      client.stop()
      yield* promise(() => client.roundTrip())

      yield* spend.release
      expect((yield* promise(() => client.closed)).code).toBe(1000)
      expect(client.received).toEqual([])
      yield* promise(() => fake.waitFor("the upstream closed", () => upstream.closed))
      const records = yield* recordsOf(c.callSid!)
      expect(records).toHaveLength(1)
      expect(records[0]!.end_reason).toBe("stop")
      expect(records[0]!.transcript_text).toBe("") // the greeting was never heard
      const live = yield* eventually(
        sql`select 1 from live_calls where tenant_id = 'acme' and call_sid = ${c.callSid}`,
        (rows) => rows.length === 0
      )
      expect(live).toHaveLength(0)
    }))

  it.effect("an expired token is refused at the socket", () =>
    Effect.gen(function*() {
      const c = claims()
      // Minted on a clock years behind the server's: long past its TTL when the server redeems it.
      const token = yield* mint(c).pipe(atTime("2020-01-01T00:00:00Z"))
      const late = yield* startWith({ claims: c, token })
      expect(late.outcome).toMatchObject({ code: 1008, reason: expect.stringContaining("expired") })
    }))

  it.effect("a token issued for another call is refused", () =>
    Effect.gen(function*() {
      const token = yield* mint(claims())
      const other = yield* startWith({ claims: claims(), token })
      expect(other.outcome).toMatchObject({ code: 1008, reason: expect.stringContaining("another call") })
    }))

  it.effect("a socket that never authenticates is closed after the bootstrap timeout", () =>
    Effect.gen(function*() {
      const url = yield* mediaStreamUrl()
      const silent = yield* promise(() => TwilioMediaClient.open(url))
      const opened = Date.now()
      const closed = yield* promise(() => silent.closed)
      expect(closed.code).toBe(1008)
      expect(Date.now() - opened).toBeGreaterThanOrEqual(BOOTSTRAP_TIMEOUT_MS - 50)
      const noToken = yield* startWith({})
      expect(noToken.outcome).toMatchObject({ code: 1008, reason: expect.stringContaining("no stream token") })
    }))

  it.effect("beyond the pending-bootstrap cap the upgrade is 429", () =>
    Effect.gen(function*() {
      const url = yield* mediaStreamUrl()
      const pending = yield* promise(() => Promise.all([0, 1, 2].map(() => TwilioMediaClient.open(url))))
      const refused = yield* promise(() => refusal(TwilioMediaClient.open(url)))
      expect(refused).toEqual({ status: 429, body: "Too many pending bootstrap sessions" })
      // Authenticated upgrades are not pending: they still get through.
      const c = claims()
      const authed = yield* startWith({ query: `?stream_token=${yield* mint(c)}`, claims: c })
      expect(authed.outcome).toBe("connected")
      authed.client.stop()
      // Once the silent ones time out, there is room again.
      yield* promise(() => Promise.all(pending.map((client) => client.closed)))
      const again = yield* promise(() => refusal(TwilioMediaClient.open(url)))
      expect(again.status).toBe(101)
    }))
})

layer(suite({ MEDIA_MAX_CALL_SECONDS: "1" }), { excludeTestServices: true })("media stream limits", (it) => {
  it.effect("a call is ended at the maximum call duration", () =>
    Effect.gen(function*() {
      const c = claims()
      const started = Date.now()
      const { client, outcome } = yield* startWith({ claims: c, token: yield* mint(c) })
      expect(outcome).toBe("connected")
      const closed = yield* promise(() => client.closed)
      expect(closed.code).toBe(1000)
      expect(Date.now() - started).toBeGreaterThanOrEqual(900)
      const sql = yield* SqlClient.SqlClient
      const reason = yield* eventually(
        sql<{ end_reason: string }>`
          select end_reason from call_logs where tenant_id = 'acme' and call_sid = ${c.callSid}`.pipe(
          Effect.map((rows) => rows[0]?.end_reason),
          Effect.orDie
        ),
        (found) => found !== undefined
      )
      expect(reason).toBe("max_duration")
    }))
})

// Shutdown interrupts the set-ups in flight: one whose token is still being spent has no closing
// of its own yet, so its set-up closes the caller's socket, or the server would wait for it.
it.scopedLive("a shutdown while a call's token is spent closes its socket (1001), having sent it nothing", () =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const server = yield* Layer.buildWithScope(suite({}), scope)
    const { client, spend, upstream } = yield* Effect.provide(Effect.gen(function*() {
      const c = claims()
      const held = yield* startWhileSpendHeld(c, yield* mint(c))
      const { spend, upstream } = held
      yield* spend.waiting
      yield* promise(() => upstream.roundTrip())
      return held
    }), server)
    const stopping = yield* Effect.fork(Scope.close(scope, Exit.void))
    // The spend is released whatever happens: its connection is the server's to close.
    const closed = yield* Effect.ensuring(
      Effect.promise(() => client.closedWithin(5_000).catch((error: Error) => error.message)),
      Effect.provide(spend.release, server)
    )
    yield* Fiber.join(stopping)
    expect(closed).toMatchObject({ code: 1001 })
    expect(client.received).toEqual([])
    expect(upstream.closed).toBe(true)
  }))
