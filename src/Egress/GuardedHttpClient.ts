import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Effect } from "effect"
import type * as dns from "node:dns"
import type { LookupFunction } from "node:net"
import { carriesUrlSecrets } from "../Http/UrlSecrets.js"
import { EgressConfig } from "./Config.js"
import { OutboundUrlRefused } from "./Errors.js"
import { parseOutboundUrl, resolvedRefusal, staticRefusal } from "./Policy.js"
import { EgressResolver, type Resolve } from "./Resolver.js"

const REFUSED = "EGRESS_REFUSED"

/**
 * Resolves like `dns.lookup`, then refuses the connection unless every address is public.
 * It runs when the socket connects, on the addresses it will use: there is no window for
 * DNS rebinding between a check and the connection.
 */
const guardedLookup = (resolve: Resolve, allowPrivate: boolean): LookupFunction => (hostname, options, callback) =>
  resolve(hostname, (error, list) => {
    if (error !== null) return callback(error, "", 4)
    const refusal = resolvedRefusal(list.map((entry) => entry.address), allowPrivate)
    if (refusal !== undefined) {
      return callback(Object.assign(new Error(refusal), { code: REFUSED }), "", 4)
    }
    if (options.all === true) return (callback as unknown as (e: null, a: ReadonlyArray<dns.LookupAddress>) => void)(null, list)
    const first = list[0]!
    callback(null, first.address, first.family)
  })

const refusedCause = (error: HttpClientError.HttpClientError): string | undefined => {
  const cause = error._tag === "RequestError" ? error.cause : undefined
  return typeof cause === "object" && cause !== null && "code" in cause && cause.code === REFUSED && "message" in cause
    ? String(cause.message)
    : undefined
}

/**
 * The HTTP client for URLs a tenant chose. Refuses non-https and local names before
 * sending, private or reserved addresses when connecting, and redirects (a 3xx is a
 * refusal, never followed), so a tenant cannot point the service at its own network.
 */
export class GuardedHttpClient extends Effect.Service<GuardedHttpClient>()("GuardedHttpClient", {
  scoped: Effect.gen(function*() {
    const { allowPrivate } = yield* EgressConfig
    const { resolve } = yield* EgressResolver
    const agent = yield* NodeHttpClient.makeAgent({ lookup: guardedLookup(resolve, allowPrivate), keepAlive: true })
    const base = yield* NodeHttpClient.make.pipe(Effect.provideService(NodeHttpClient.HttpAgent, agent))
    const client = base.pipe(
      HttpClient.mapRequestEffect((request) => {
        const url = parseOutboundUrl(request.url)
        const refusal = typeof url === "string" ? url : staticRefusal(url, allowPrivate)
        return refusal === undefined
          ? Effect.succeed(request)
          : Effect.fail(new OutboundUrlRefused({ url: request.url, reason: refusal }))
      }),
      HttpClient.transformResponse(Effect.catchIf(
        (error): error is HttpClientError.HttpClientError =>
          error._tag === "RequestError" && refusedCause(error) !== undefined,
        (error) => Effect.fail(new OutboundUrlRefused({ url: error.request.url, reason: refusedCause(error)! }))
      )),
      HttpClient.filterOrFail(
        (response) => response.status < 300 || response.status >= 400,
        (response) => new OutboundUrlRefused({ url: response.request.url, reason: `it redirects (${response.status})` })
      ),
      // A tenant's URL may hold its credential (user:password@, token@, ?token=): the client span would
      // export it as url.full, so such a request gets none (its caller's span still records it).
      HttpClient.withTracerDisabledWhen((request) => carriesUrlSecrets(request.url))
    )
    return { client } as const
  }),
  dependencies: [EgressConfig.Default, EgressResolver.Default]
}) {}
