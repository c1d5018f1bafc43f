import { Option } from "effect"
import type { AppConfig } from "../Config.js"
import type { TenantConfig } from "./Config.js"
import { isJsonObject, redactSecrets, type Tenant } from "./Domain.js"

export const DEFAULT_VOICE = "alloy"

export interface AudioProviderState {
  readonly configured: string
  readonly effective: string
  readonly elevenlabsConfigured: boolean
  /** Configured only: reachability and live fallback are known to Voices/AudioProviders (health, diagnostics). */
  readonly elevenlabsReady: boolean
  readonly fallbackReason: string | null
}

/** Which voice engine the tenant's configuration asks for (the runtime view); what really speaks: AudioProviders. */
export const audioProvider = (config: TenantConfig, platform: AppConfig): AudioProviderState => {
  const configured = config.audio_output_provider ?? "openai"
  const elevenlabsConfigured = config.elevenlabs?.api_key !== undefined || Option.isSome(platform.elevenlabsApiKey)
  const fallback = configured === "elevenlabs" && !elevenlabsConfigured
  return {
    configured,
    effective: fallback ? "openai" : configured,
    elevenlabsConfigured,
    elevenlabsReady: elevenlabsConfigured,
    fallbackReason: fallback ? "elevenlabs_not_configured" : null
  }
}

/** Twilio credentials are usable: the tenant's own, or the platform defaults. */
export const twilioConfigured = (config: TenantConfig, platform: AppConfig): boolean => {
  const accountSid = config.twilio?.account_sid !== undefined || Option.isSome(platform.twilioAccountSid)
  const authToken = config.twilio?.auth_token !== undefined || Option.isSome(platform.twilioAuthToken)
  return accountSid && authToken
}

/**
 * The configuration a new call of this tenant runs with: the stored document (every key,
 * unknown ones included) with the settings the service resolves, platform defaults applied; redacted.
 */
export const runtimeView = ({ config, document }: Pick<Tenant, "config" | "document">, platform: AppConfig): unknown =>
  redactSecrets({
    ...document,
    model: config.model ?? platform.openaiRealtimeModel,
    voice: config.voice ?? DEFAULT_VOICE,
    audio_output_provider: audioProvider(config, platform).effective,
    twilio: {
      ...(isJsonObject(document.twilio) ? document.twilio : {}),
      account_sid: config.twilio?.account_sid ?? Option.getOrNull(platform.twilioAccountSid),
      from_number: config.twilio?.from_number ?? Option.getOrNull(platform.twilioFromNumber),
      configured: twilioConfigured(config, platform)
    }
  })
