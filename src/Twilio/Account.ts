import { Option, Redacted } from "effect"
import type { AppConfig } from "../Config.js"
import type { TenantConfig } from "../Tenants/Config.js"
import type { TwilioCredentials } from "./Client.js"

/** A tenant's Twilio settings, falling back to the platform's (DESIGN.md, "Configuration"). */

/** The tenant's own token; a blank one (only whitespace) counts as none. */
const ownAuthToken = (config: TenantConfig): string | undefined => {
  const token = config.twilio?.auth_token === undefined ? undefined : Redacted.value(config.twilio.auth_token)
  return token?.trim() === "" ? undefined : token
}

/** REST credentials: the tenant's own pair, else the platform's; none when neither is complete. */
export const twilioCredentials = (config: TenantConfig, platform: AppConfig): Option.Option<TwilioCredentials> => {
  const accountSid = config.twilio?.account_sid
  const authToken = ownAuthToken(config)
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
  const own = ownAuthToken(config)
  if (own !== undefined) return Option.some(own)
  return Option.map(platform.twilioAuthToken, Redacted.value)
}

/** The caller id for the tenant's outbound calls. */
export const defaultFromNumber = (config: TenantConfig, platform: AppConfig): Option.Option<string> =>
  Option.orElse(Option.fromNullable(config.twilio?.from_number), () => platform.twilioFromNumber)

const E164 = /^\+[1-9]\d{6,14}$/

export const isE164 = (number: string): boolean => E164.test(number)
