import { Deferred, Exit, FiberId, Schema } from "effect"
import type { StreamClaims } from "../Auth/StreamTokens.js"
import type { EndReason } from "./Bridge.js"
import type { TwilioStart } from "./TwilioEvents.js"
import type { TwilioHandler } from "./TwilioSocket.js"

/** The socket closed (or Twilio said stop) before the call started. */
export class StreamClosed extends Schema.TaggedError<StreamClosed>()("StreamClosed", {}) {}

/** Why a socket is turned away after the upgrade; closed with a policy-violation code. */
export class StreamRejected extends Schema.TaggedError<StreamRejected>()("StreamRejected", {
  message: Schema.String
}) {}

/** What the upgrade request itself proved, before any frame arrived. */
export type PreAuth =
  | { readonly _tag: "StreamToken"; readonly claims: StreamClaims }
  | { readonly _tag: "Tenant"; readonly tenantId: string }
  | { readonly _tag: "None" }

/**
 * The Twilio socket's handler until the call is running: waits for `start`, keeps the
 * caller's audio (it is relayed once the upstream is open), notices an early hang-up.
 */
export class BootstrapHandler implements TwilioHandler {
  /** Caller audio that arrived before the call was running (views into their frames). */
  readonly audio: Array<Buffer> = []
  readonly started = Deferred.unsafeMake<TwilioStart, StreamClosed>(FiberId.none)
  endedEarly: EndReason | undefined = undefined

  media(bytes: Buffer, start: number, end: number): void {
    this.audio.push(bytes.subarray(start, end))
  }

  mark(): void {}

  dtmf(): void {}

  start(event: TwilioStart): void {
    Deferred.unsafeDone(this.started, Exit.succeed(event))
  }

  stop(): void {
    this.endedEarly ??= "stop"
    Deferred.unsafeDone(this.started, Exit.fail(new StreamClosed()))
  }

  closed(): void {
    this.endedEarly ??= "caller_hangup"
    Deferred.unsafeDone(this.started, Exit.fail(new StreamClosed()))
  }
}
