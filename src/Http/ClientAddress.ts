import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Option } from "effect"

/**
 * The caller's address. The edge (Edge.ts) resolves it once per request under TRUST_PROXY
 * and hands the rest of the app a request whose remote address is that client.
 */
export const clientAddress = (request: HttpServerRequest.HttpServerRequest): string =>
  Option.getOrElse(request.remoteAddress, () => "unknown")
