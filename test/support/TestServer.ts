import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { layer } from "@effect/vitest"
import { Clock, ConfigProvider, Effect, Layer, Logger, LogLevel, type Scope, TestClock } from "effect"
import { testDatabaseUrl } from "./TestDatabase.js"

/**
 * The service's module graph, loaded when a suite builds its server rather than when a file
 * imports this one: files that only start service processes (Replicas.ts) or use `request`
 * and the headers skip ~1-2 s of module loading each (every test file is a fresh process).
 */
const serviceModules = Effect.promise(async () => {
  const [NodeServer, { Migrations }, { HttpLive }, { ServicesLive }] = await Promise.all([
    import("../../src/Http/NodeServer.js"),
    import("../../src/Database/Migrations.js"),
    import("../../src/Server.js"),
    import("../../src/Services.js")
  ])
  return { NodeServer, Migrations, HttpLive, ServicesLive }
})

export const ADMIN_KEY = "test-admin-key-0123456789abcdefghij"

/** Settings every test server starts with; a suite overrides what it exercises. */
export const baseTestConfig: Record<string, string> = {
  ADMIN_API_KEY: ADMIN_KEY,
  RATE_LIMIT_PER_IP_PER_MINUTE: "100000",
  RATE_LIMIT_PER_TENANT_PER_MINUTE: "100000",
  PUBLIC_BASE_URL: "http://voice.test",
  // Suites tell callers apart by X-Forwarded-For, as if behind one proxy.
  TRUST_PROXY: "1",
  // Suites name upstream sessions by the order the fake accepted them (connection #0 is the
  // first call's, #1 its reconnect or the next call's): no spare sockets in between. Spares
  // are tested on their own (media-spare-upstream.test.ts).
  MEDIA_SPARE_UPSTREAMS: "0"
}

export interface TestServerOptions {
  /** Reaches the database through another address (e.g. a proxy the test can cut). */
  readonly viaDatabaseUrl?: (url: string) => Effect.Effect<string, never, Scope.Scope>
  /**
   * "real" (default): the server keeps real time even inside a suite that gives its tests a
   * TestClock. "test": the server runs on the suite's TestClock (see `testClockSuite`).
   */
  readonly clock?: "real" | "test"
}

/**
 * On the TestClock every wake of a background schedule is a real pass (and a TestClock round)
 * each time a test moves the clock: the admission reservations' 1 s tend was ~40 % of the real
 * time a simulated minute took. No suite on the TestClock takes calls; one that does sets it.
 */
const testClockConfig: Record<string, string> = { CALL_ADMISSIONS_AHEAD: "0" }

/** Where a suite's TestClock starts: the beginning of the current wall-clock minute. */
const testClockStart = Layer.effectDiscard(Effect.suspend(() => TestClock.setTime(Math.floor(Date.now() / 60_000) * 60_000)))

/**
 * The real service on a random local port, backed by a fresh database of its own, with
 * an `HttpClient` pointed at it. `config` is the environment the service sees.
 */
export const makeTestServer = (config: Record<string, string> = {}, options: TestServerOptions = {}) =>
  Layer.unwrapScoped(Effect.zipWith(
    serviceModules,
    Effect.flatMap(testDatabaseUrl, (url) => options.viaDatabaseUrl?.(url) ?? Effect.succeed(url)),
    ({ HttpLive, Migrations, NodeServer, ServicesLive }, databaseUrl) => {
    const settings = { ...baseTestConfig, ...(options.clock === "test" ? testClockConfig : {}), DATABASE_URL: databaseUrl, ...config }
    const provider = ConfigProvider.fromMap(new Map(Object.entries(settings)))
    return HttpLive.pipe(
      Layer.provideMerge(Layer.effectDiscard(Effect.flatMap(Migrations, (m) => m.awaitApplied))),
      Layer.provideMerge(NodeServer.layerTest),
      Layer.provideMerge(ServicesLive),
      Layer.provide(Layer.setConfigProvider(provider)),
      // Set before any of the server's fibers sleeps, so none wakes for the jump.
      Layer.provide(options.clock === "test" ? testClockStart : Layer.setClock(Clock.make())),
      // Access logs of every request would bury a failing test's output.
      Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
    )
  }))

/** What a suite's tests (and its seed) can use: the server's services and an `HttpClient` pointed at it. */
export type TestServer = Layer.Layer.Success<ReturnType<typeof makeTestServer>>

/**
 * `server` with `seed` applied once, before the first test: the data a suite's tests share
 * is a layer (never a test of its own), so any one test can run alone or in any order.
 * What the seed provides (ids it created...) is available to the tests.
 */
export const seeded = <ROut, E, S, E2>(
  server: Layer.Layer<ROut, E>,
  seed?: Layer.Layer<S, E2, ROut>
): Layer.Layer<ROut | S, E | E2> =>
  // Without a seed there is no S to provide (S is `never` then).
  seed === undefined ? (server as Layer.Layer<ROut | S, E | E2>) : Layer.provideMerge(seed, server)

/**
 * The suite's shared server, on real time. Test services stay out of the server's own
 * runtime (and out of the tests': `it.effect` bodies that want a TestClock provide one,
 * see `atTime` in TestTime.ts).
 */
export const serverSuite = <S = never>(
  config: Record<string, string> = {},
  options: Omit<TestServerOptions, "clock"> & { readonly seed?: Layer.Layer<S, unknown, TestServer> } = {}
) => layer(seeded(makeTestServer(config, options), options.seed), { excludeTestServices: true })

/**
 * A suite whose server runs on the tests' TestClock: time stands still (at the start of the
 * current wall-clock minute) until a test moves it with `TestClock.adjust`, so time rules
 * (rate-limit windows, idle eviction) are driven, never waited for. Background schedules
 * run only as the clock is moved, so keep adjustments short.
 */
export const testClockSuite = <S = never>(
  config: Record<string, string> = {},
  options: { readonly seed?: Layer.Layer<S, unknown, TestServer> } = {}
) => layer(seeded(makeTestServer(config, { clock: "test" }), options.seed))

/** The consumers' typed client (src/Client.ts), on the test server's HttpClient. */
export const apiClient = (headers: Record<string, string> = {}) =>
  Effect.flatMap(Effect.promise(() => import("../../src/Client.js")), ({ makeClient }) => makeClient({ headers }))

export interface RawResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: any
  readonly text: string
}

/** A plain HTTP exchange, for asserting exact status, headers and JSON bodies. */
export const request = (
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
  path: string,
  options: { readonly headers?: Record<string, string>; readonly json?: unknown; readonly body?: string } = {}
) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    let req = HttpClientRequest.make(method)(path).pipe(HttpClientRequest.setHeaders(options.headers ?? {}))
    if (options.json !== undefined) req = HttpClientRequest.bodyUnsafeJson(req, options.json)
    if (options.body !== undefined) {
      req = HttpClientRequest.bodyText(req, options.body, options.headers?.["content-type"] ?? "application/json")
    }
    const response = yield* client.execute(req)
    const text = yield* response.text
    let body: unknown = undefined
    try {
      body = text === "" ? undefined : JSON.parse(text)
    } catch {
      body = undefined
    }
    const raw: RawResponse = { status: response.status, headers: response.headers, body, text }
    return raw
  }).pipe(Effect.scoped, Effect.orDie)

export const adminHeaders = { "x-admin-key": ADMIN_KEY }

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

export { HttpClientResponse }
