import { Option } from "effect"
import type { TenantConfig } from "../Tenants/Config.js"

/**
 * The prompt library: `system_prompt_key` names a tenant prompt (`prompts` in its config) or
 * one of these built-ins. `{business_name}` is the tenant's display name.
 */
const BUILT_IN: Readonly<Record<string, string>> = {
  default:
    "You are the phone assistant for {business_name}. Keep answers short and friendly: this is a phone call.",
  support_default:
    "You are the customer support agent for {business_name} on a phone call. Answer briefly, confirm details " +
    "back to the caller, use the tools you have to look things up, and offer a human when you cannot help.",
  sales_default:
    "You are a sales assistant for {business_name} on a phone call. Be warm and concise, learn what the caller " +
    "needs, and offer to text them details or book a follow-up.",
  front_desk:
    "You answer the front desk phone for {business_name}. Take messages, answer questions about opening hours, " +
    "and transfer callers who ask for a person."
}

export const BUILT_IN_PROMPT_KEYS: ReadonlyArray<string> = Object.keys(BUILT_IN)

/** The prompt `key` names for this tenant (its own prompts win over built-ins), with its name filled in. */
export const resolvePrompt = (config: TenantConfig, key: string): Option.Option<string> => {
  const own = config.prompts?.[key]
  const text = own ?? (Object.hasOwn(BUILT_IN, key) ? BUILT_IN[key] : undefined)
  return Option.map(Option.fromNullable(text), (prompt) =>
    prompt.replaceAll("{business_name}", config.display_name ?? config.tenant_id))
}

/** Why `key` names no prompt of this tenant (the 400 at config time), or undefined when it does. */
export const missingPrompt = (config: TenantConfig, key: string, field: string): string | undefined =>
  Option.isSome(resolvePrompt(config, key))
    ? undefined
    : `${field} ${JSON.stringify(key.slice(0, 64))} names no prompt: add it to the tenant's prompts or use one of ${
      BUILT_IN_PROMPT_KEYS.join(", ")
    }`
