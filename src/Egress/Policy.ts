import { isIP } from "node:net"
import { isPublicAddress } from "./Addresses.js"

/** Why `url` may not be called at all, whatever its name resolves to; undefined when it may. */
export const staticRefusal = (url: URL, allowPrivate: boolean): string | undefined => {
  if (url.protocol !== "https:" && !(allowPrivate && url.protocol === "http:")) return "only https URLs are allowed"
  if (allowPrivate) return undefined
  const host = url.hostname.replace(/^\[|\]$/g, "")
  if (isIP(host) !== 0) return isPublicAddress(host) ? undefined : "it points at a private or reserved address"
  if (host === "localhost" || host.endsWith(".localhost") || !host.includes(".")) {
    return "it names a local host"
  }
  return undefined
}

/** Why a name resolving to `addresses` may not be called; undefined when every one is public. */
export const resolvedRefusal = (addresses: ReadonlyArray<string>, allowPrivate: boolean): string | undefined => {
  if (allowPrivate) return undefined
  if (addresses.length === 0) return "it does not resolve"
  const bad = addresses.find((address) => !isPublicAddress(address))
  return bad === undefined ? undefined : `it resolves to a private or reserved address (${bad})`
}

/** Parses a URL for an outbound request; a refusal reason when it is not an absolute URL. */
export const parseOutboundUrl = (text: string): URL | string => {
  try {
    return new URL(text)
  } catch {
    return "it is not an absolute URL"
  }
}
