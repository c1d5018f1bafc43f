import { Option, Tracer } from "effect"

/** W3C trace context: version 00, 32-hex trace id, 16-hex span id, flags. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/** The `traceparent` of `span`, to carry a webhook's span to its media stream (a TwiML parameter). */
export const traceparentOf = (span: Tracer.AnySpan): string =>
  `00-${span.traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`

/**
 * A span link to the span a `traceparent` names. The value comes back from Twilio in the
 * `start` event: anything malformed is ignored (it only ever links traces, never authorises).
 */
export const linkFrom = (traceparent: string | null | undefined): Option.Option<Tracer.SpanLink> => {
  const match = traceparent === null || traceparent === undefined ? null : TRACEPARENT.exec(traceparent)
  if (match === null) return Option.none()
  return Option.some({
    _tag: "SpanLink",
    span: Tracer.externalSpan({ traceId: match[1]!, spanId: match[2]!, sampled: match[3] === "01" }),
    attributes: { "link.kind": "voice_webhook" }
  })
}
