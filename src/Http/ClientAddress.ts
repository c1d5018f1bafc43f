import type { HttpServerRequest } from "@effect/platform"
import { Option } from "effect"

/**
 * The caller's address: the entry the nearest proxy appended to X-Forwarded-For (the
 * rightmost, which a client cannot forge past a proxy that appends), else the socket peer.
 */
export const clientAddress = (request: HttpServerRequest.HttpServerRequest): string => {
  const forwarded = request.headers["x-forwarded-for"]
  if (forwarded !== undefined) {
    const hops = forwarded.split(",").map((hop) => hop.trim()).filter((hop) => hop !== "")
    const nearest = hops[hops.length - 1]
    if (nearest !== undefined) return nearest
  }
  return Option.getOrElse(request.remoteAddress, () => "unknown")
}
