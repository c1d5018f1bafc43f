import { Effect } from "effect"
import { positiveInt } from "../ConfigIntegers.js"

/** ElevenLabs timings. Its key and base URL are platform settings (AppConfig). */
export class ElevenLabsConfig extends Effect.Service<ElevenLabsConfig>()("ElevenLabsConfig", {
  effect: Effect.gen(function*() {
    return {
      /** Opening one stream-input socket may take this long. */
      connectTimeoutMs: yield* positiveInt("ELEVENLABS_CONNECT_TIMEOUT_MS", 3_000),
      /** After the first text of a reply, audio must start within this; else the call falls back to OpenAI audio. */
      firstAudioTimeoutMs: yield* positiveInt("ELEVENLABS_FIRST_AUDIO_TIMEOUT_MS", 4_000),
      /** The reachability check (health, diagnostics, new calls) gives up after this. */
      probeTimeoutMs: yield* positiveInt("ELEVENLABS_PROBE_TIMEOUT_MS", 2_000),
      /** How long a reachable result is trusted; an unreachable one is retried sooner (a fifth of it). */
      probeTtlSeconds: yield* positiveInt("ELEVENLABS_PROBE_TTL_SECONDS", 60)
    } as const
  })
}) {}
