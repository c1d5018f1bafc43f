import { Either, Schema } from "effect"
import { createHash } from "node:crypto"

/**
 * A tenant's configuration document: `tenant_id` plus any tenant-specific keys. The keys
 * the service itself reads are validated (see `validateTenantConfig`); the rest are kept
 * as the administrator wrote them.
 */
export interface TenantConfig {
  readonly tenant_id: string
  readonly [key: string]: unknown
}

const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })

const nullableString = (description: string) =>
  Schema.optional(Schema.NullOr(Schema.String)).annotations({ description })

export const TenantConfigDocument = Schema.Struct(
  {
    tenant_id: Schema.String.annotations({ description: "Stable tenant identifier" }),
    model: nullableString("Realtime model used by this tenant"),
    org_id: nullableString("Optional organization identifier"),
    system_prompt_key: nullableString("System prompt key for the tenant's voice agent"),
    twilio: Schema.optional(Schema.Unknown).annotations({ description: "Twilio-specific tenant configuration" }),
    voice: nullableString("Voice used for generated speech")
  },
  JsonObject
).annotations({
  identifier: "TenantConfigDocument",
  description:
    "Full tenant configuration document. Secret values may be supplied by administrators but are redacted from read responses."
})

export const TenantRuntimeConfigPatch = Schema.Struct(
  {
    model: nullableString("Realtime model to use for new sessions"),
    system_prompt_key: nullableString("System prompt key for the tenant's voice agent"),
    twilio: Schema.optional(Schema.Unknown).annotations({ description: "Twilio-specific runtime configuration patch" }),
    voice: nullableString("Voice to use for generated speech"),
    webhook_url: nullableString("Optional webhook URL for tenant events")
  },
  JsonObject
).annotations({
  identifier: "TenantRuntimeConfigPatch",
  description:
    "Partial tenant runtime configuration patch. Only supplied fields are merged into the active tenant config; arbitrary tenant-specific configuration keys are accepted."
})

const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/
const E164 = /^\+[1-9]\d{6,14}$/
const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/
const HTTP_URL = /^https?:\/\/[^\s/$.?#][^\s]*$/i
const AUDIO_PROVIDERS = ["openai", "elevenlabs"]

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** Problems with the keys the service reads, as messages naming the key. */
const problems = (doc: Record<string, unknown>): Array<string> => {
  const found: Array<string> = []
  const optionalString = (key: string, value: unknown, check?: { test: (s: string) => boolean; hint: string }) => {
    if (value === undefined || value === null) return
    if (typeof value !== "string") found.push(`${key} must be a string`)
    else if (check !== undefined && !check.test(value)) found.push(`${key} ${check.hint}`)
  }
  if (typeof doc.tenant_id !== "string" || !TENANT_ID.test(doc.tenant_id)) {
    found.push("tenant_id must be 1-128 characters of letters, digits, '_', '-' or '.'")
  }
  for (const key of ["model", "org_id", "voice", "system_prompt_key", "display_name"]) optionalString(key, doc[key])
  optionalString("auth_token", doc.auth_token, { test: (s) => s.length >= 16, hint: "must be at least 16 characters" })
  optionalString("webhook_url", doc.webhook_url, { test: (s) => HTTP_URL.test(s), hint: "must be an http(s) URL" })
  optionalString("audio_output_provider", doc.audio_output_provider, {
    test: (s) => AUDIO_PROVIDERS.includes(s),
    hint: `must be one of ${AUDIO_PROVIDERS.join(", ")}`
  })
  if (doc.twilio !== undefined && doc.twilio !== null) {
    if (!isObject(doc.twilio)) {
      found.push("twilio must be an object")
    } else {
      const twilio = doc.twilio
      optionalString("twilio.account_sid", twilio.account_sid, {
        test: (s) => ACCOUNT_SID.test(s),
        hint: "must look like AC followed by 32 hex characters"
      })
      optionalString("twilio.auth_token", twilio.auth_token)
      optionalString("twilio.from_number", twilio.from_number, {
        test: (s) => E164.test(s),
        hint: "must be an E.164 number such as +15555551234"
      })
    }
  }
  if (doc.elevenlabs !== undefined && doc.elevenlabs !== null && !isObject(doc.elevenlabs)) {
    found.push("elevenlabs must be an object")
  }
  return found
}

export const validateTenantConfig = (doc: Record<string, unknown>): Either.Either<TenantConfig, string> => {
  const found = problems(doc)
  return found.length === 0
    ? Either.right(doc as TenantConfig)
    : Either.left(`Invalid tenant config: ${found.join("; ")}`)
}

// --- secrets ----------------------------------------------------------------------------------

export const REDACTED = "[redacted]"

const SECRET_KEY = /token|secret|passw(or)?d|api[_-]?key|private[_-]?key|credential|signing[_-]?key/i

/** Every secret-looking value, at any depth, replaced by a marker. */
export const redactSecrets = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(redactSecrets)
  if (!isObject(value)) return value
  const out: Record<string, unknown> = {}
  for (const [key, inner] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) && inner !== null && inner !== undefined && !isObject(inner)
      ? REDACTED
      : redactSecrets(inner)
  }
  return out
}

/**
 * A document read back (redacted) and written again must not replace secrets with the
 * marker: wherever `incoming` still holds the marker, the stored value is kept.
 */
export const restoreRedactedSecrets = (incoming: unknown, stored: unknown): unknown => {
  if (incoming === REDACTED) return stored
  if (!isObject(incoming)) return incoming
  const storedObject = isObject(stored) ? stored : {}
  const out: Record<string, unknown> = {}
  for (const [key, inner] of Object.entries(incoming)) {
    out[key] = restoreRedactedSecrets(inner, storedObject[key])
  }
  return out
}

// --- versions -------------------------------------------------------------------------------

const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  if (isObject(value)) {
    return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(",")}}`
  }
  return JSON.stringify(value) ?? "null"
}

/** A strong ETag over the document's content (key order does not matter). */
export const computeEtag = (config: TenantConfig): string =>
  `"${createHash("sha256").update(canonicalJson(config)).digest("hex").slice(0, 32)}"`

/** RFC 7232 If-Match: `*` or a list of (possibly weak) tags. */
export const ifMatchAccepts = (header: string, current: string | undefined): boolean => {
  const candidates = header.split(",").map((tag) => tag.trim().replace(/^W\//, ""))
  if (candidates.includes("*")) return current !== undefined
  return current !== undefined && candidates.includes(current)
}

/** RFC 7396 JSON merge patch: objects merge recursively, `null` removes a key. */
export const mergePatch = (target: unknown, patch: unknown): unknown => {
  if (!isObject(patch)) return patch
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key]
    else out[key] = mergePatch(out[key], value)
  }
  return out
}

export const stringField = (config: TenantConfig, key: string): string | undefined => {
  const value = config[key]
  return typeof value === "string" && value !== "" ? value : undefined
}

export const objectField = (config: TenantConfig, key: string): Record<string, unknown> => {
  const value = config[key]
  return isObject(value) ? value : {}
}
