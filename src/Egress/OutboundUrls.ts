import { Effect } from "effect"
import { isIP } from "node:net"
import { EgressConfig } from "./Config.js"
import { OutboundUrlRefused } from "./Errors.js"
import { parseOutboundUrl, resolvedRefusal, staticRefusal } from "./Policy.js"
import { EgressResolver } from "./Resolver.js"

/**
 * The check a tenant-supplied URL passes when it is configured (a clear 400 then, rather
 * than failed deliveries later). It is advisory: DNS may change, so `GuardedHttpClient`
 * checks the address again when it connects.
 */
export class OutboundUrls extends Effect.Service<OutboundUrls>()("OutboundUrls", {
  effect: Effect.gen(function*() {
    const { allowPrivate } = yield* EgressConfig
    const { resolve } = yield* EgressResolver

    /**
     * `requireResolvable: false` accepts a name that does not resolve yet (a tenant may set
     * its URL before its DNS): the connect-time guard still refuses it if it later resolves
     * to a private address.
     */
    const check = Effect.fn("OutboundUrls.check")(function*(text: string, options?: { readonly requireResolvable?: boolean }) {
      const parsed = parseOutboundUrl(text)
      if (typeof parsed === "string") return yield* new OutboundUrlRefused({ url: text, reason: parsed })
      const refusal = staticRefusal(parsed, allowPrivate)
      if (refusal !== undefined) return yield* new OutboundUrlRefused({ url: text, reason: refusal })
      const host = parsed.hostname.replace(/^\[|\]$/g, "")
      if (allowPrivate || isIP(host) !== 0) return parsed
      const addresses = yield* Effect.async<ReadonlyArray<string>>((resume) =>
        resolve(host, (error, found) => resume(Effect.succeed(error === null ? found.map((entry) => entry.address) : [])))
      ).pipe(Effect.timeoutTo({ duration: "3 seconds", onTimeout: (): ReadonlyArray<string> => [], onSuccess: (found) => found }))
      if (addresses.length === 0 && options?.requireResolvable === false) return parsed
      const late = resolvedRefusal(addresses, allowPrivate)
      if (late !== undefined) return yield* new OutboundUrlRefused({ url: text, reason: late })
      return parsed
    })

    return { check } as const
  }),
  dependencies: [EgressConfig.Default, EgressResolver.Default]
}) {}
