import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { isPublicAddress } from "../src/Egress/Addresses.js"
import { EgressConfig } from "../src/Egress/Config.js"
import { GuardedHttpClient } from "../src/Egress/GuardedHttpClient.js"
import { OutboundUrls } from "../src/Egress/OutboundUrls.js"
import { EgressResolver, type Resolve } from "../src/Egress/Resolver.js"

/** A resolver that answers from a table; each name's answers are used in turn (DNS rebinding). */
const fakeDns = (table: Record<string, ReadonlyArray<string>>) => {
  const asked = new Map<string, number>()
  const resolve: Resolve = (hostname, callback) => {
    const answers = table[hostname]
    if (answers === undefined) return callback(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: "ENOTFOUND" }), [])
    const turn = asked.get(hostname) ?? 0
    asked.set(hostname, turn + 1)
    const address = answers[Math.min(turn, answers.length - 1)]!
    callback(null, [{ address, family: address.includes(":") ? 6 : 4 }])
  }
  return Layer.succeed(EgressResolver, EgressResolver.make({ resolve }))
}

const egress = (allowPrivate: boolean, table: Record<string, ReadonlyArray<string>> = {}) =>
  Layer.mergeAll(OutboundUrls.DefaultWithoutDependencies, GuardedHttpClient.DefaultWithoutDependencies).pipe(
    Layer.provide(fakeDns(table)),
    Layer.provide(EgressConfig.Default),
    Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["ALLOW_PRIVATE_OUTBOUND_URLS", String(allowPrivate)]]))))
  )

/** A receiver on loopback that counts requests: `/ok` answers 200, `/moved` redirects to `/ok`. */
const receiver = Effect.acquireRelease(
  Effect.async<{ readonly port: number; readonly hits: Array<string>; readonly server: http.Server }>((resume) => {
    const hits: Array<string> = []
    const server = http.createServer((req, res) => {
      hits.push(req.url ?? "")
      if (req.url === "/moved") res.writeHead(302, { location: "/ok" }).end()
      else res.writeHead(200, { "content-type": "text/plain" }).end("ok")
    })
    server.listen(0, "127.0.0.1", () => {
      resume(Effect.succeed({ port: (server.address() as AddressInfo).port, hits, server }))
    })
  }),
  ({ server }) =>
    Effect.async<void>((resume) => {
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
)

const refusal = <A, E extends { readonly _tag: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.flip(effect), (error) => error._tag)

describe("outbound URL guard", () => {
  it("classifies addresses: public unicast only", () => {
    for (const address of ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111"]) expect(isPublicAddress(address)).toBe(true)
    for (
      const address of [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fd00:ec2::254", "::ffff:127.0.0.1",
        "64:ff9b::a00:1", "not an address"
      ]
    ) expect(isPublicAddress(address), address).toBe(false)
  })

  it.effect("refuses private, local, metadata and plain-http URLs when they are configured", () =>
    Effect.gen(function*() {
      const urls = yield* OutboundUrls
      const refused = (url: string) => Effect.map(Effect.flip(urls.check(url)), (error) => error.message)
      expect(yield* refused("http://hooks.example.com/x")).toContain("only https")
      expect(yield* refused("https://127.0.0.1/x")).toContain("private or reserved")
      expect(yield* refused("https://[::1]:8443/x")).toContain("private or reserved")
      expect(yield* refused("https://169.254.169.254/latest/meta-data")).toContain("private or reserved")
      expect(yield* refused("https://localhost/x")).toContain("local host")
      expect(yield* refused("https://metadata/computeMetadata")).toContain("local host")
      expect(yield* refused("https://intranet.example.com/x")).toContain("10.0.0.7")
      expect(yield* refused("https://nowhere.example.com/x")).toContain("does not resolve")
      expect(yield* refused("not a url")).toContain("not an absolute URL")
      const ok = yield* urls.check("https://hooks.example.com/x")
      expect(ok.hostname).toBe("hooks.example.com")
    }).pipe(Effect.provide(egress(false, { "hooks.example.com": ["93.184.216.34"], "intranet.example.com": ["10.0.0.7"] }))))

  it.scoped("checks the address again when connecting: a name rebound to loopback is refused, nothing is sent", () =>
    Effect.gen(function*() {
      const target = yield* receiver
      const urls = yield* OutboundUrls
      const { client } = yield* GuardedHttpClient
      const url = `https://rebind.example.com:${target.port}/ok`
      yield* urls.check(url) // the first answer is public
      const error = yield* Effect.flip(client.execute(HttpClientRequest.get(url)))
      expect(error._tag).toBe("OutboundUrlRefused")
      expect(error.message).toContain("127.0.0.1")
      expect(yield* refusal(client.execute(HttpClientRequest.get(`http://127.0.0.1:${target.port}/ok`)))).toBe(
        "OutboundUrlRefused"
      )
      expect(target.hits).toEqual([])
    }).pipe(Effect.provide(egress(false, { "rebind.example.com": ["93.184.216.34", "127.0.0.1"] }))))

  it.scoped("with ALLOW_PRIVATE_OUTBOUND_URLS a local receiver is reached, and a redirect is still refused", () =>
    Effect.gen(function*() {
      const target = yield* receiver
      const { client } = yield* GuardedHttpClient
      const ok = yield* client.execute(HttpClientRequest.get(`http://127.0.0.1:${target.port}/ok`))
      expect(ok.status).toBe(200)
      const moved = yield* Effect.flip(client.execute(HttpClientRequest.get(`http://127.0.0.1:${target.port}/moved`)))
      expect(moved.message).toContain("redirects (302)")
      expect(target.hits).toEqual(["/ok", "/moved"])
    }).pipe(Effect.provide(egress(true))))
})
