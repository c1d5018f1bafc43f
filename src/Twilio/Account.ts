import { Option, Redacted } from "effect"
import type { AppConfig } from "../Config.js"
import { objectField, type TenantConfig } from "../Tenants/Domain.js"
import type { TwilioCredentials } from "./Client.js"

/** A tenant's Twilio settings, falling back to the platform's (DESIGN.md, "Configuration"). */

const tenantString = (config: TenantConfig, key: string): string | undefined => {
  const value = objectField(config, "twilio")[key]
  return typeof value === "string" && value.trim() !== "" ? value : undefined
}

/** REST credentials: the tenant's own pair, else the platform's; none when neither is complete. */
export const twilioCredentials = (config: TenantConfig, platform: AppConfig): Option.Option<TwilioCredentials> => {
  const accountSid = tenantString(config, "account_sid")
  const authToken = tenantString(config, "auth_token")
  if (accountSid !== undefined && authToken !== undefined) return Option.some({ accountSid, authToken })
  if (Option.isSome(platform.twilioAccountSid) && Option.isSome(platform.twilioAuthToken)) {
    return Option.some({
      accountSid: platform.twilioAccountSid.value,
      authToken: Redacted.value(platform.twilioAuthToken.value)
    })
  }
  return Option.none()
}

/** The token Twilio signs this tenant's webhooks with; none means the signature is not checked. */
export const webhookAuthToken = (config: TenantConfig, platform: AppConfig): Option.Option<string> => {
  const own = tenantString(config, "auth_token")
  if (own !== undefined) return Option.some(own)
  return Option.map(platform.twilioAuthToken, Redacted.value)
}

/** The caller id for the tenant's outbound calls. */
export const defaultFromNumber = (config: TenantConfig, platform: AppConfig): Option.Option<string> =>
  Option.orElse(Option.fromNullable(tenantString(config, "from_number")), () => platform.twilioFromNumber)

const E164 = /^\+[1-9]\d{6,14}$/

export const isE164 = (number: string): boolean => E164.test(number)
