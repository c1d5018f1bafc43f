import { BlockList, isIP } from "node:net"

/**
 * TRUST_PROXY: which forwarding headers to believe.
 * - `off` (default): only the socket peer counts; X-Forwarded-For is ignored.
 * - a hop count N: N proxies in front of us append to X-Forwarded-For; the client is the
 *   entry N places from the right (counting the socket peer as the rightmost).
 * - a comma-separated list of addresses/CIDRs (and `loopback`, `private`): walking from the
 *   socket peer leftwards, every trusted hop is skipped; the first untrusted one is the client.
 */
export type TrustProxy =
  | { readonly _tag: "Off" }
  | { readonly _tag: "Hops"; readonly hops: number }
  | { readonly _tag: "Networks"; readonly networks: BlockList }

const NAMED: Record<string, ReadonlyArray<string>> = {
  loopback: ["127.0.0.0/8", "::1/128"],
  private: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
}

const addNetwork = (list: BlockList, entry: string): boolean => {
  const [address, bits] = entry.split("/")
  const family = isIP(address ?? "")
  if (family === 0) return false
  const type = family === 4 ? "ipv4" : "ipv6"
  if (bits === undefined) {
    list.addAddress(address!, type)
    return true
  }
  const prefix = Number(bits)
  if (!/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128)) return false
  list.addSubnet(address!, prefix, type)
  return true
}

/** Parses TRUST_PROXY; undefined when the value is not understood (the config check reports it). */
export const parseTrustProxy = (raw: string): TrustProxy | undefined => {
  const value = raw.trim().toLowerCase()
  if (value === "" || value === "off" || value === "false" || value === "0") return { _tag: "Off" }
  if (/^\d+$/.test(value)) return { _tag: "Hops", hops: Number(value) }
  if (value === "true") return { _tag: "Hops", hops: 1 }
  const networks = new BlockList()
  for (const entry of value.split(",").map((part) => part.trim()).filter((part) => part !== "")) {
    const named = NAMED[entry]
    const ok = named === undefined ? addNetwork(networks, entry) : named.every((net) => addNetwork(networks, net))
    if (!ok) return undefined
  }
  return { _tag: "Networks", networks }
}

/** `::ffff:1.2.3.4` is an IPv4 peer on a dual-stack socket; `[::1]:80` and `1.2.3.4:80` carry ports. */
const normalize = (address: string): string => {
  let out = address.trim().replace(/^"|"$/g, "")
  if (out.startsWith("[")) out = out.slice(1, out.indexOf("]") === -1 ? undefined : out.indexOf("]"))
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(out)) out = out.slice(0, out.lastIndexOf(":"))
  if (out.toLowerCase().startsWith("::ffff:") && isIP(out.slice(7)) === 4) out = out.slice(7)
  return out
}

const isTrusted = (networks: BlockList, address: string): boolean => {
  const family = isIP(address)
  return family !== 0 && networks.check(address, family === 4 ? "ipv4" : "ipv6")
}

/** The hops a request passed, leftmost first, from X-Forwarded-For or else RFC 7239 `Forwarded`. */
const forwardedChain = (headers: Readonly<Record<string, string | undefined>>): Array<string> => {
  const xff = headers["x-forwarded-for"]
  if (xff !== undefined) return xff.split(",").map(normalize).filter((hop) => hop !== "")
  const forwarded = headers["forwarded"]
  if (forwarded === undefined) return []
  return forwarded.split(",").flatMap((element) => {
    const match = /(?:^|;)\s*for=("[^"]*"|[^;,\s]*)/i.exec(element)
    return match === null ? [] : [normalize(match[1]!)]
  }).filter((hop) => hop !== "")
}

/** The client's address under `trust`, given the socket peer and the request headers. */
export const resolveClientAddress = (
  trust: TrustProxy,
  peer: string,
  headers: Readonly<Record<string, string | undefined>>
): string => {
  const socket = normalize(peer)
  if (trust._tag === "Off") return socket
  const chain = [...forwardedChain(headers), socket]
  if (trust._tag === "Hops") return chain[Math.max(0, chain.length - 1 - trust.hops)]!
  let index = chain.length - 1
  while (index > 0 && isTrusted(trust.networks, chain[index]!)) index--
  return chain[index]!
}
