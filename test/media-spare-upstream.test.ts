import { expect, it, layer } from "@effect/vitest"
import { Effect, Exit, Layer, Scope } from "effect"
import { Lifecycle } from "../src/Health/Lifecycle.js"
import { eventuallyHolds } from "./support/Eventually.js"
import { FakeOpenAI, type FakeRealtimeConnection } from "./support/FakeOpenAIRealtime.js"
import { dial, MediaSuite, newCall, promise, startCall, waitForLog } from "./support/MediaCalls.js"
import { adminHeaders, request } from "./support/TestServer.js"
import { testDatabaseUrl } from "./support/TestDatabase.js"

/**
 * Spare upstreams (src/Media/SparePool.ts): once a call has used a realtime URL, the replica
 * keeps MEDIA_SPARE_UPSTREAMS sockets to it open and hands one to the next call. The fake
 * model numbers its connections in the order it accepted them, so "accepted before the call's
 * `start`" is an index taken before the call dialled.
 */

/** The ids of the connections the service has spoken on (a `session.update`: a call's). */
const spokenOn = (connections: ReadonlyArray<FakeRealtimeConnection>) =>
  connections.filter((c) => c.eventsOf("session.update").length > 0).map((c) => c.id)

/** The media suite with one spare per URL, and /metrics on. */
const spareSuite = (config: Record<string, string> = {}) =>
  MediaSuite({ MEDIA_SPARE_UPSTREAMS: "1", METRICS_ENABLED: "true", ...config })

/** voice_upstream_spares_total for one outcome, from GET /metrics. */
const sparesCounted = (outcome: string) =>
  Effect.map(request("GET", "/metrics", { headers: adminHeaders }), (res) => {
    expect(res.status).toBe(200)
    return res.text.split("\n")
      .filter((line) => line.startsWith("voice_upstream_spares_total{") && line.includes(`outcome="${outcome}"`))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0)
  })

/**
 * The first call with its own upstream, and the spare the replica opens for its URL meanwhile
 * (connections #0 and #1, in whichever order the fake accepted them).
 */
const firstCallAndSpare = Effect.gen(function*() {
  const fake = yield* FakeOpenAI
  expect(fake.connections).toHaveLength(0) // no call yet: no spare either
  const call = yield* newCall()
  const client = yield* dial(call)
  yield* promise(() => fake.waitFor("the first call's own upstream, spoken to, and a spare", () =>
    fake.connections.length === 2 && spokenOn(fake.connections).length === 1))
  const own = fake.connections[spokenOn(fake.connections)[0]!]!
  const spare = fake.connections[1 - own.id]!
  // Nothing is said on a spare; the fake's `session.created` went the other way.
  expect(spare.received).toEqual([])
  expect(spare.closed).toBe(false)
  return { first: { ...call, client }, own, spare }
})

/** A second call, dialled now; resolves once its Twilio side heard the greeting's audio. */
const greetedCall = Effect.gen(function*() {
  const call = yield* newCall()
  const client = yield* dial(call)
  yield* promise(() => client.waitFor("the greeting's audio at the caller", () => client.of("media").length > 0))
  return { ...call, client }
})

layer(spareSuite(), { excludeTestServices: true })("a spare upstream", (it) => {
  it.effect("the next call's session opens on a connection accepted before its start; a replacement opens", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      const used = yield* sparesCounted("used")
      const { spare } = yield* firstCallAndSpare

      const second = yield* greetedCall
      // The spare carried the second call: its session.update and greeting went there.
      expect(spare.received.map((e) => e.type).slice(0, 2)).toEqual(["session.update", "response.create"])
      expect(spare.eventsOf("session.update")[0].session.audio.input.format.type).toBe("audio/pcmu")
      // ... and a replacement opened in the background, unspoken to; no call opened its own.
      const replacement = yield* promise(() => fake.connection(2))
      expect(replacement.received).toEqual([])
      expect(spokenOn(fake.connections)).toEqual([0, 1])
      expect(yield* sparesCounted("used")).toBe(used + 1)
      expect(yield* sparesCounted("missed")).toBeGreaterThanOrEqual(1) // the first call's

      second.client.stop()
      const log = yield* waitForLog(second.callSid)
      expect(log.end_reason).toBe("stop")
      expect(log.status).toBe("completed")
    }))
})

layer(spareSuite(), { excludeTestServices: true })("a spare the server closed", (it) => {
  it.effect("is not handed to a call: the call opens its own and is greeted", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      const discarded = yield* sparesCounted("discarded")
      const { spare } = yield* firstCallAndSpare
      spare.drop()
      yield* eventuallyHolds(sparesCounted("discarded"), (n) => n === discarded + 1)

      const second = yield* greetedCall
      expect(spare.received).toEqual([])
      // Its own, accepted after its start (#2): a replacement waits a few seconds after a discard.
      expect(spokenOn(fake.connections)).toEqual([1 - spare.id, 2])
      second.client.stop()
    }))
})

layer(spareSuite(), { excludeTestServices: true })("a spare the server spoke on", (it) => {
  it.effect("is closed and not handed to a call (its event would reach the call's bridge)", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      const { spare } = yield* firstCallAndSpare
      spare.send({ type: "error", error: { message: "Your session hit the maximum duration of 60 minutes.", code: "session_expired" } })
      yield* promise(() => fake.waitFor("the spoiled spare closed by the service", () => spare.closed))

      yield* greetedCall
      expect(spare.received).toEqual([])
      expect(spokenOn(fake.connections)).toEqual([1 - spare.id, 2])
    }))
})

layer(spareSuite({ MEDIA_SPARE_UPSTREAM_MAX_AGE_SECONDS: "1" }), { excludeTestServices: true })(
  "a spare past its maximum age",
  (it) => {
    it.effect("is closed unused and replaced", () =>
      Effect.gen(function*() {
        const fake = yield* FakeOpenAI
        const { spare } = yield* firstCallAndSpare
        yield* promise(() => fake.waitFor("the old spare closed", () => spare.closed, 5_000))
        const replacement = yield* promise(() => fake.connection(2, 5_000))
        expect(spare.received).toEqual([])
        expect(replacement.received).toEqual([])
      }))
  }
)

layer(spareSuite({ MEDIA_SPARE_UPSTREAM_IDLE_SECONDS: "1" }), { excludeTestServices: true })(
  "a URL no call asked for lately",
  (it) => {
    it.effect("has its spares closed and not replaced", () =>
      Effect.gen(function*() {
        const fake = yield* FakeOpenAI
        const { first, spare } = yield* firstCallAndSpare
        yield* promise(() => fake.waitFor("the idle URL's spare closed", () => spare.closed, 5_000))
        // Still none after the next check (the pool looks once a second).
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 1_500)))
        expect(fake.connections).toHaveLength(2)
        first.client.stop()
      }))
  }
)

layer(spareSuite(), { excludeTestServices: true })("a draining replica", (it) => {
  it.effect("closes its spares and opens none; calls it still takes open their own", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      const { spare } = yield* firstCallAndSpare
      yield* (yield* Lifecycle).startDraining
      yield* promise(() => fake.waitFor("the spare closed on draining", () => spare.closed, 5_000))

      yield* greetedCall
      expect(spare.received).toEqual([])
      expect(spokenOn(fake.connections)).toEqual([1 - spare.id, 2])
      expect(fake.connections).toHaveLength(3) // no replacement spare
    }))
})

layer(MediaSuite({ MEDIA_SPARE_UPSTREAMS: "0" }), { excludeTestServices: true })("MEDIA_SPARE_UPSTREAMS=0", (it) => {
  it.effect("each call opens its own upstream after its start, as without spares", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      const first = yield* startCall()
      yield* promise(() => first.client.waitFor("the first call's greeting", () => first.client.of("media").length > 0))
      expect(fake.connections).toHaveLength(1)
      yield* greetedCall
      expect(fake.connections).toHaveLength(2)
      expect(spokenOn(fake.connections)).toEqual([0, 1])
    }))
})

it.scopedLive("a replica's shutdown closes its spares (on purpose, before the fake goes)", () =>
  Effect.gen(function*() {
    const url = yield* testDatabaseUrl
    const scope = yield* Scope.make()
    const server = yield* Layer.buildWithScope(
      MediaSuite({ MEDIA_SPARE_UPSTREAMS: "1" }, { viaDatabaseUrl: () => Effect.succeed(url) }),
      scope
    )
    const { spare } = yield* Effect.provide(firstCallAndSpare, server)
    yield* Scope.close(scope, Exit.void)
    // The fake closes with the same scope, after the service: a spare left open would be
    // dropped by it (1006); the service's own close sent 1000.
    expect(spare.closed).toBe(true)
    expect(spare.closeCode).toBe(1000)
    expect(spare.received).toEqual([])
  }))
