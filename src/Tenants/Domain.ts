import { Effect, Either, Schema } from "effect"
import { decodeTenantConfig, type TenantConfig } from "./Config.js"
import { TenantConfigUnreadable } from "./Errors.js"
import { Text } from "../Http/Schemas.js"
import { redactUrlSecrets, SECRET_NAME } from "../Http/UrlSecrets.js"

/**
 * A tenant's configuration document as the administrator wrote it: `tenant_id` plus any
 * keys. It is what GET/PUT round-trip (unknown keys included) and what the ETag covers;
 * the service reads it only through its typed view, `TenantConfig` (Config.ts).
 */
export interface TenantDocument {
  readonly tenant_id: string
  readonly [key: string]: unknown
}

/** A tenant the service can run: its stored document and that document's typed view. */
export interface Tenant {
  readonly tenantId: string
  readonly etag: string
  readonly document: TenantDocument
  readonly config: TenantConfig
}

/** A stored document as the admin API shows it; it may no longer decode (see `runnableTenant`). */
export interface StoredTenant {
  readonly tenantId: string
  readonly etag: string
  readonly document: TenantDocument
}

/**
 * A stored document that no longer decodes (written straight to the database, or before a
 * rule was added) puts its tenant out of service rather than running it on a guess: the
 * runtime treats it as absent (bearer auth 401, webhooks unresolved) until a valid document
 * is PUT, while the admin API still shows and accepts its document.
 */
export const runnableTenant = (stored: StoredTenant): Either.Either<Tenant, TenantConfigUnreadable> =>
  Either.match(decodeTenantConfig(stored.document), {
    onLeft: (problems) => Either.left(new TenantConfigUnreadable({ tenantId: stored.tenantId, problems })),
    onRight: (config) => Either.right({ ...stored, config })
  })

/** Says why a tenant is out of service; the problems name keys, never values (secrets stay out of logs). */
export const logUnreadable = (error: TenantConfigUnreadable) =>
  Effect.logError("stored tenant config no longer decodes; the tenant is out of service until it is fixed").pipe(
    Effect.annotateLogs({ tenant_id: error.tenantId, problems: error.problems })
  )

const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })

const nullableString = (description: string, text: Schema.Schema<string> = Text.Name) =>
  Schema.optional(Schema.NullOr(text)).annotations({ description })

export const TenantConfigDocument = Schema.Struct(
  {
    tenant_id: Text.Id.annotations({ description: "Stable tenant identifier" }),
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
    webhook_url: nullableString("Optional webhook URL for tenant events", Text.Url)
  },
  JsonObject
).annotations({
  identifier: "TenantRuntimeConfigPatch",
  description:
    "Partial tenant runtime configuration patch. Only supplied fields are merged into the active tenant config; arbitrary tenant-specific configuration keys are accepted."
})

export const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

// --- secrets ----------------------------------------------------------------------------------

export const REDACTED = "[redacted]"

/** Every secret-looking value, at any depth, replaced by a marker; URLs lose their credentials. */
export const redactSecrets = (value: unknown): unknown => {
  if (typeof value === "string") return redactUrlSecrets(value, REDACTED)
  if (Array.isArray(value)) return value.map(redactSecrets)
  if (!isJsonObject(value)) return value
  const out: Record<string, unknown> = {}
  for (const [key, inner] of Object.entries(value)) {
    out[key] = SECRET_NAME.test(key) && inner !== null && inner !== undefined && !isJsonObject(inner)
      ? REDACTED
      : redactSecrets(inner)
  }
  return out
}

// --- versions -------------------------------------------------------------------------------

/** RFC 7232 If-Match: `*` or a list of (possibly weak) tags. */
export const ifMatchAccepts = (header: string, current: string | undefined): boolean => {
  const candidates = header.split(",").map((tag) => tag.trim().replace(/^W\//, ""))
  if (candidates.includes("*")) return current !== undefined
  return current !== undefined && candidates.includes(current)
}

/** RFC 7396 JSON merge patch: objects merge recursively, `null` removes a key. */
export const mergePatch = (target: unknown, patch: unknown): unknown => {
  if (!isJsonObject(patch)) return patch
  const out: Record<string, unknown> = isJsonObject(target) ? { ...target } : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key]
    else out[key] = mergePatch(out[key], value)
  }
  return out
}
