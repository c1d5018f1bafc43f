import { Effect } from "effect"
import { nonNegativeInt, positiveInt } from "../ConfigIntegers.js"

/**
 * Settings of the realtime media path. Read through `Config` like `AppConfig`, kept here
 * because only the call bridge uses them.
 */
export class MediaConfig extends Effect.Service<MediaConfig>()("MediaConfig", {
  effect: Effect.gen(function*() {
    return {
      /** A socket that has not authenticated (and sent `start`) in this time is closed. */
      bootstrapTimeoutMs: yield* positiveInt("MEDIA_BOOTSTRAP_TIMEOUT_MS", 5_000),
      /** Unauthenticated sockets allowed to wait for `start` at once; more get 429. */
      maxPendingBootstrap: yield* positiveInt("MEDIA_MAX_PENDING_BOOTSTRAP", 200),
      /** Hard limit on one call's length. */
      maxCallSeconds: yield* positiveInt("MEDIA_MAX_CALL_SECONDS", 3_600),
      /** How long a tool may run before the model is told it timed out. */
      toolTimeoutMs: yield* positiveInt("MEDIA_TOOL_TIMEOUT_MS", 10_000),
      /** How long opening the OpenAI Realtime socket may take. */
      upstreamConnectTimeoutMs: yield* positiveInt("MEDIA_UPSTREAM_CONNECT_TIMEOUT_MS", 5_000),
      /** After an `end_call`/escalation reply, how long to wait for its audio to finish playing. */
      hangupGraceMs: yield* positiveInt("MEDIA_HANGUP_GRACE_MS", 15_000),
      /** How often a replica renews the heartbeat of the calls it holds (and looks for orphans). */
      heartbeatSeconds: yield* positiveInt("MEDIA_HEARTBEAT_SECONDS", 10),
      /** A call whose replica has not beaten for this long is closed as failed by another. */
      reapAfterSeconds: yield* positiveInt("MEDIA_REAP_AFTER_SECONDS", 60),
      /** How long a call's end keeps retrying its record before leaving it to the reaper. */
      recordRetrySeconds: yield* positiveInt("MEDIA_RECORD_RETRY_SECONDS", 30),
      /** Largest WebSocket message accepted at all (ws closes with 1009 past it). */
      maxFrameBytes: yield* positiveInt("MEDIA_MAX_FRAME_BYTES", 65_536),
      /** Largest message before the call has started (a `start` with its parameters fits). */
      maxPrestartFrameBytes: yield* positiveInt("MEDIA_MAX_PRESTART_FRAME_BYTES", 16_384),
      /** Caller audio kept per socket before its call starts; more is dropped. */
      prestartAudioBytes: yield* positiveInt("MEDIA_PRESTART_AUDIO_BYTES", 131_072),
      /** The same, summed over every socket of this replica. */
      prestartAudioTotalBytes: yield* positiveInt("MEDIA_PRESTART_AUDIO_TOTAL_BYTES", 16_777_216),
      /** Unauthenticated sockets one client address may have waiting at once; more get 429. */
      maxPendingPerAddress: yield* positiveInt("MEDIA_MAX_PENDING_PER_ADDRESS", 50),
      /**
       * OpenAI Realtime sockets kept open, unused, per realtime URL (model) this replica has served
       * lately, handed to the next call instead of opening one (SpareUpstreams); 0: none. Two: a
       * lone call finds one, and so does a call arriving while the first one's replacement is
       * still in its handshake (100-400 ms to api.openai.com).
       */
      spareUpstreams: yield* nonNegativeInt("MEDIA_SPARE_UPSTREAMS", 2),
      /**
       * An unused spare is closed and replaced at this age: the session it holds counts towards
       * OpenAI's maximum session length (60 minutes; 30 on Azure) from its opening, not the call's.
       */
      spareUpstreamMaxAgeSeconds: yield* positiveInt("MEDIA_SPARE_UPSTREAM_MAX_AGE_SECONDS", 120),
      /** Spares for a URL no call has asked for in this time are closed and not replaced. */
      spareUpstreamIdleSeconds: yield* positiveInt("MEDIA_SPARE_UPSTREAM_IDLE_SECONDS", 600)
    } as const
  })
}) {}
