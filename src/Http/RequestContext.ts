import { FiberRef } from "effect"

/** The access log line's own fields (request_id and tenant_id come from the context itself). */
export interface AccessFields {
  readonly method: string
  readonly path: string
  readonly status: number
  readonly duration_ms: number
  readonly client: string
}

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
  /**
   * Set by the edge for its access log line only (and cleared right after it): the JSON logger
   * adds them to that line as annotations, which costs no fiber-ref update per request.
   */
  access: AccessFields | undefined
}

export const CurrentRequest = FiberRef.unsafeMake<RequestContext | undefined>(undefined)
