import { Option } from "effect"
import type { AppConfig } from "../Config.js"
import { objectField, redactSecrets, stringField, type TenantConfig } from "./Domain.js"

export const DEFAULT_VOICE = "alloy"

export interface AudioProviderState {
  readonly configured: string
  readonly effective: string
  readonly elevenlabsConfigured: boolean
  /** We hold no ElevenLabs session to warm up: ready means usable (configured). */
  readonly elevenlabsReady: boolean
  readonly fallbackReason: string | null
}

/** Which voice engine speaks for the tenant, and whether we had to fall back to OpenAI. */
export const audioProvider = (config: TenantConfig, platform: AppConfig): AudioProviderState => {
  const configured = stringField(config, "audio_output_provider") ?? "openai"
  const elevenlabs = objectField(config, "elevenlabs")
  const elevenlabsConfigured = typeof elevenlabs.api_key === "string" || Option.isSome(platform.elevenlabsApiKey)
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
  const twilio = objectField(config, "twilio")
  const accountSid = typeof twilio.account_sid === "string" || Option.isSome(platform.twilioAccountSid)
  const authToken = typeof twilio.auth_token === "string" || Option.isSome(platform.twilioAuthToken)
  return accountSid && authToken
}

/** The configuration a new call of this tenant runs with: the document plus platform defaults, redacted. */
export const runtimeView = (config: TenantConfig, platform: AppConfig): unknown => {
  const twilio = objectField(config, "twilio")
  return redactSecrets({
    ...config,
    model: stringField(config, "model") ?? platform.openaiRealtimeModel,
    voice: stringField(config, "voice") ?? DEFAULT_VOICE,
    audio_output_provider: audioProvider(config, platform).effective,
    twilio: {
      ...twilio,
      account_sid: twilio.account_sid ?? Option.getOrNull(platform.twilioAccountSid),
      from_number: twilio.from_number ?? Option.getOrNull(platform.twilioFromNumber),
      configured: twilioConfigured(config, platform)
    }
  })
}
