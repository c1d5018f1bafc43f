import { Either } from "effect"
import type { TenantConfig } from "../Tenants/Config.js"
import type { SmsKind } from "../Tenants/ToolSettings.js"

/** What each SMS automation says unless the tenant's `sms.templates` says otherwise. */
export const DEFAULT_TEMPLATES: Readonly<Record<SmsKind, string>> = {
  tracking: "{business_name}: your order {order_id} has shipped with {carrier}. Tracking number: {tracking_number}",
  issue_intake: "{business_name}: please tell us about the issue here: {issue_intake_url}",
  phone_order: "{business_name}: thank you for your order {order_id}. We will text you when it ships.",
  post_call_survey: "{business_name}: how did we do on your call today? {survey_url}",
  troubleshooting: "{business_name}: the steps we talked about: {steps}"
}

const PLACEHOLDER = /\{([a-z_][a-z0-9_]{0,63})\}/gi

export const placeholdersOf = (template: string): ReadonlyArray<string> =>
  [...new Set([...template.matchAll(PLACEHOLDER)].map((match) => match[1]!))]

/** An SMS is at most 10 segments; a longer rendering is refused rather than cut. */
export const MAX_SMS_LENGTH = 1_600

/**
 * The text of `kind` for these values: every placeholder filled, or the missing ones named
 * (and where they come from) so the caller knows what to send.
 */
export const renderSms = (
  config: TenantConfig,
  kind: SmsKind,
  values: Readonly<Record<string, string>>
): Either.Either<string, string> => {
  const template = config.sms?.templates?.[kind] ?? DEFAULT_TEMPLATES[kind]
  const source = config.sms?.templates?.[kind] === undefined ? "default" : `sms.templates.${kind}`
  const missing = placeholdersOf(template).filter((name) => (values[name] ?? "").trim() === "")
  if (missing.length > 0) {
    return Either.left(
      `the ${kind} SMS (${source} template) needs ${missing.join(", ")}: pass ${
        missing.length === 1 ? "it" : "them"
      } in metadata${missing.some((name) => name.endsWith("_url")) ? " or configure them under sms in the tenant config" : ""}`
    )
  }
  const text = template.replace(PLACEHOLDER, (_, name: string) => values[name]!)
  return text.length > MAX_SMS_LENGTH
    ? Either.left(`the ${kind} SMS would be ${text.length} characters; at most ${MAX_SMS_LENGTH}`)
    : Either.right(text)
}
