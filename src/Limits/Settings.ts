import { Option } from "effect"
import type { AppConfig } from "../Config.js"
import type { TenantConfig } from "../Tenants/Config.js"
import { countryCode, type DestinationPolicy } from "./Destinations.js"

export interface EffectiveLimits extends DestinationPolicy {
  readonly maxConcurrentCalls: number
  readonly maxCallsPerReplica: number
  readonly outboundCallsPerMinute: number
  readonly outboundCallsPerDay: number
  readonly smsPerMinute: number
  readonly smsPerDay: number
  /** null: no budget. */
  readonly monthlyCallMinutes: number | null
  readonly overCapacity: "say_and_hang_up" | "callback_task"
  readonly inboundOverBudget: "answer" | "say_and_hang_up" | "callback_task"
}

/**
 * The tenant's own country: the calling code of its Twilio number (the platform's when it
 * has none, else the caller id the call goes out with, which Twilio only accepts from the
 * account's own numbers). With no number at all the list is empty.
 */
export const homeCountryCodes = (config: TenantConfig, platform: AppConfig, from?: string): ReadonlyArray<string> => {
  const number = config.twilio?.from_number ?? Option.getOrUndefined(platform.twilioFromNumber) ?? from
  return number === undefined ? [] : Option.toArray(countryCode(number))
}

/** The tenant's limits now: read from the cached config on every check, so a change applies at once. */
export const effectiveLimits = (config: TenantConfig, platform: AppConfig, from?: string): EffectiveLimits => {
  const own = config.limits
  return {
    maxConcurrentCalls: own?.max_concurrent_calls ?? platform.tenantMaxConcurrentCalls,
    maxCallsPerReplica: platform.maxCallsPerReplica,
    outboundCallsPerMinute: own?.outbound_calls_per_minute ?? platform.tenantOutboundCallsPerMinute,
    outboundCallsPerDay: own?.outbound_calls_per_day ?? platform.tenantOutboundCallsPerDay,
    smsPerMinute: own?.sms_per_minute ?? platform.tenantSmsPerMinute,
    smsPerDay: own?.sms_per_day ?? platform.tenantSmsPerDay,
    monthlyCallMinutes: own?.monthly_call_minutes ??
      (platform.tenantMonthlyCallMinutes > 0 ? platform.tenantMonthlyCallMinutes : null),
    allowedCountryCodes: own?.allowed_country_codes ?? homeCountryCodes(config, platform, from),
    allowPremium: own?.allow_premium ?? false,
    allowSatellite: own?.allow_satellite ?? false,
    overCapacity: own?.over_capacity ?? "say_and_hang_up",
    inboundOverBudget: own?.inbound_over_budget ?? "answer"
  }
}
