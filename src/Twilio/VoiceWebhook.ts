import { Effect } from "effect"
import type { CachedTenant } from "../TenantCache/TenantCache.js"
import type { CallSeen } from "../CallLogs/Writes.js"
import type { InvalidInput } from "../Database/Errors.js"
import { WebhookBadRequest } from "./Api.js"
import type { WebhookCall } from "./TenantResolution.js"

/** A voice webhook request: what Twilio signed and the query our own URLs carry. */
export interface VoiceWebhook {
  /** PUBLIC_BASE_URL + the requested path and query. */
  readonly url: string
  readonly params: Readonly<Record<string, string | undefined>>
  readonly signature: string | undefined
  readonly query: {
    readonly tenant?: string | undefined
    readonly agent_version_id?: string | undefined
    readonly agent_id?: string | undefined
    readonly greeting?: string | undefined
    readonly agent_name?: string | undefined
    readonly translation_room?: string | undefined
    readonly language?: string | undefined
    readonly peer_language?: string | undefined
  }
}

export type CallKind = "inbound" | "outbound"

export type TenantRef = Pick<CachedTenant, "tenantId" | "config">

/**
 * The webhook as Twilio signed it: PUBLIC_BASE_URL + the path it requested (the legacy alias
 * included, hence the original URL) + the query, and every form parameter. Built by the
 * HttpApi handlers (Twilio/Http.ts) and by the incoming-call fast path (Twilio/HotWebhook.ts).
 */
export const signedWebhook = (
  publicBaseUrl: string,
  request: { readonly originalUrl: string; readonly headers: Readonly<Record<string, string | undefined>> },
  params: VoiceWebhook["params"],
  signed: boolean,
  query: VoiceWebhook["query"]
): VoiceWebhook => ({
  url: `${publicBaseUrl}${request.originalUrl}`,
  params,
  signature: signed ? request.headers["x-twilio-signature"] : undefined,
  query
})

/** A form parameter, or undefined when absent or blank. */
export const text = (params: VoiceWebhook["params"], name: string) => {
  const value = params[name]
  return value === undefined || value.trim() === "" ? undefined : value
}

export const required = (params: VoiceWebhook["params"], name: string) => {
  const value = text(params, name)
  return value === undefined
    ? Effect.fail(new WebhookBadRequest({ message: `Missing required parameter ${name}` }))
    : Effect.succeed(value)
}

/** A parameter PostgreSQL cannot store (text with NUL) did not come from Twilio. */
export const badRequest = (error: InvalidInput) => Effect.fail(new WebhookBadRequest({ message: error.message }))

const definedParams = (params: VoiceWebhook["params"]): Record<string, string> =>
  Object.fromEntries(Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined))

/** The webhook as tenant resolution reads it; our number is the called one inbound, the caller id outbound. */
export const webhookCall = (hook: VoiceWebhook, kind: CallKind, sip: boolean): WebhookCall => ({
  url: hook.url,
  params: definedParams(hook.params),
  signature: hook.signature,
  explicitTenant: hook.query.tenant,
  accountSid: text(hook.params, "AccountSid"),
  number: text(hook.params, kind === "inbound" ? "To" : "From"),
  direction: sip ? (kind === "inbound" ? "sip_inbound" : "sip_outbound") : kind
})

/** The call as the webhook first sees it (its call log's first row), at `now`. */
export const seenOf = (
  tenant: TenantRef,
  hook: VoiceWebhook,
  kind: CallKind,
  callSid: string,
  agentVersionId: string | null,
  now: number
): CallSeen => ({
  tenantId: tenant.tenantId,
  callSid,
  direction: kind,
  from: text(hook.params, "From") ?? null,
  to: text(hook.params, "To") ?? null,
  agentVersionId,
  twilioStatus: text(hook.params, "CallStatus") ?? null,
  at: new Date(now)
})
