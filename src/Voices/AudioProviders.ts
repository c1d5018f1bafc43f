import { Cache, Duration, Effect, Exit, Option, Redacted } from "effect"
import { AppConfig } from "../Config.js"
import type { TenantConfig } from "../Tenants/Config.js"
import { ElevenLabsConfig } from "./Config.js"
import type { ElevenLabsTarget } from "./Protocol.js"

/** ElevenLabs' default voice and its low-latency model, when the tenant names none. */
export const DEFAULT_ELEVENLABS_VOICE = "21m00Tcm4TlvDq8ikWAM"
export const DEFAULT_ELEVENLABS_MODEL = "eleven_flash_v2_5"

export type FallbackReason = "elevenlabs_not_configured" | "elevenlabs_unavailable"

/** A tenant's audio output as it really is on this replica (what health and diagnostics report). */
export interface AudioProviderState {
  readonly configured: string
  readonly effective: "openai" | "elevenlabs"
  readonly elevenlabsConfigured: boolean
  /** Configured, and the reachability check with its key succeeded (recently). */
  readonly elevenlabsReady: boolean
  readonly fallbackReason: FallbackReason | null
  /** Live calls of the tenant here speaking with ElevenLabs / fallen back to OpenAI. */
  readonly speakingWithElevenLabs: number
  readonly fellBack: number
}

/** How a new call speaks: with ElevenLabs (`target`), or OpenAI audio and why. */
export interface CallVoiceChoice {
  readonly target: ElevenLabsTarget | undefined
  readonly fallbackReason: FallbackReason | null
}

/** One live call's use of a provider; `fellBack` when it moves to OpenAI mid-call. */
export interface VoiceUsage {
  readonly fellBack: () => void
}

interface Probe {
  readonly ok: boolean
  readonly reason: string
}

interface Usage {
  elevenlabs: number
  fellBack: number
}

/**
 * Whether ElevenLabs can speak for a tenant: configured (a key, the tenant's or the
 * platform's), reachable (a cheap authenticated GET against ELEVENLABS_BASE_URL, with a
 * timeout, cached per key), and in use by the calls this replica runs. Live usage is per
 * replica, like the `activeSessions` it sits next to.
 */
export class AudioProviders extends Effect.Service<AudioProviders>()("AudioProviders", {
  effect: Effect.gen(function*() {
    const platform = yield* AppConfig
    const settings = yield* ElevenLabsConfig
    const usage = new Map<string, Usage>()

    const probe = (apiKey: string) =>
      Effect.tryPromise({
        try: (signal) =>
          fetch(`${platform.elevenlabsBaseUrl}/v1/models`, {
            headers: { "xi-api-key": apiKey },
            signal: AbortSignal.any([signal, AbortSignal.timeout(settings.probeTimeoutMs)])
          }).then((response) => {
            void response.body?.cancel()
            return response.ok
              ? { ok: true, reason: "reachable" }
              : { ok: false, reason: response.status === 401 || response.status === 403 ? "key refused" : `HTTP ${response.status}` }
          }),
        catch: () => "unreachable"
      }).pipe(Effect.catchAll((reason) => Effect.succeed<Probe>({ ok: false, reason })))

    const ttl = Duration.seconds(settings.probeTtlSeconds)
    const probes = yield* Cache.makeWith({
      capacity: 1_000,
      lookup: probe,
      timeToLive: (exit: Exit.Exit<Probe>) =>
        Exit.isSuccess(exit) && exit.value.ok ? ttl : Duration.divide(ttl, 5).pipe(Option.getOrElse(() => ttl))
    })

    /** The tenant's ElevenLabs settings, if it has a key to speak with. */
    const target = (config: TenantConfig): ElevenLabsTarget | undefined => {
      const key = config.elevenlabs?.api_key ?? Option.getOrUndefined(platform.elevenlabsApiKey)
      if (key === undefined || Redacted.value(key).trim() === "") return undefined
      return {
        baseUrl: platform.elevenlabsBaseUrl,
        apiKey: Redacted.value(key),
        voiceId: config.elevenlabs?.voice_id ?? DEFAULT_ELEVENLABS_VOICE,
        modelId: config.elevenlabs?.model_id ?? DEFAULT_ELEVENLABS_MODEL
      }
    }

    const state = (tenantId: string, config: TenantConfig) =>
      Effect.gen(function*() {
        const configured = config.audio_output_provider ?? "openai"
        const elevenlabs = target(config)
        const ready = elevenlabs === undefined ? false : (yield* probes.get(elevenlabs.apiKey)).ok
        const live = usage.get(tenantId) ?? { elevenlabs: 0, fellBack: 0 }
        const fallbackReason: FallbackReason | null = configured !== "elevenlabs"
          ? null
          : elevenlabs === undefined
          ? "elevenlabs_not_configured"
          : !ready || live.fellBack > 0
          ? "elevenlabs_unavailable"
          : null
        return {
          configured,
          effective: configured === "elevenlabs" && fallbackReason === null ? "elevenlabs" : "openai",
          elevenlabsConfigured: elevenlabs !== undefined,
          elevenlabsReady: ready,
          fallbackReason,
          speakingWithElevenLabs: live.elevenlabs,
          fellBack: live.fellBack
        } satisfies AudioProviderState
      })

    /**
     * How a new call of the tenant speaks. It never waits on the check: a key known to fail
     * goes straight to OpenAI audio; otherwise the call tries ElevenLabs (and falls back
     * mid-call if that fails), and a check is started for the next caller.
     */
    const forCall = (config: TenantConfig): Effect.Effect<CallVoiceChoice> =>
      Effect.gen(function*() {
        if ((config.audio_output_provider ?? "openai") !== "elevenlabs") return { target: undefined, fallbackReason: null }
        const elevenlabs = target(config)
        if (elevenlabs === undefined) return { target: undefined, fallbackReason: "elevenlabs_not_configured" as const }
        const known = yield* probes.getOptionComplete(elevenlabs.apiKey)
        if (Option.isNone(known)) yield* Effect.forkDaemon(probes.get(elevenlabs.apiKey))
        return Option.isSome(known) && !known.value.ok
          ? { target: undefined, fallbackReason: "elevenlabs_unavailable" as const }
          : { target: elevenlabs, fallbackReason: null }
      })

    const entry = (tenantId: string): Usage => {
      let found = usage.get(tenantId)
      if (found === undefined) usage.set(tenantId, found = { elevenlabs: 0, fellBack: 0 })
      return found
    }
    const leave = (tenantId: string, counts: Usage) => {
      if (counts.elevenlabs === 0 && counts.fellBack === 0) usage.delete(tenantId)
    }

    /** Counts a live call speaking with ElevenLabs for as long as the scope lasts. */
    const speaking = (tenantId: string) =>
      Effect.acquireRelease(
        Effect.sync(() => {
          let fell = false
          entry(tenantId).elevenlabs++
          return {
            fellBack: () => {
              if (fell) return
              fell = true
              const counts = entry(tenantId)
              counts.elevenlabs--
              counts.fellBack++
            },
            get fell() {
              return fell
            }
          }
        }),
        (handle) =>
          Effect.sync(() => {
            const counts = entry(tenantId)
            if (handle.fell) counts.fellBack--
            else counts.elevenlabs--
            leave(tenantId, counts)
          })
      )

    return { target, state, forCall, speaking } as const
  }),
  dependencies: [ElevenLabsConfig.Default]
}) {}
