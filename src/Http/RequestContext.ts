import { FiberRef } from "effect"

/**
 * What the outermost middleware knows about the request in flight. The record is
 * mutable on purpose: the tenant is learnt deep inside the route (authentication)
 * but the access log and error envelopes are written at the edge.
 */
export interface RequestContext {
  readonly requestId: string
  tenantId: string | undefined
  /** Set by a rate limiter that rejected the request; becomes the `Retry-After` header. */
  retryAfterSeconds: number | undefined
}

export const CurrentRequest = FiberRef.unsafeMake<RequestContext | undefined>(undefined)
