import { Schema } from "effect"

/**
 * The tenant-config parts of prompts, tenant tools, SMS templates and the email endpoint
 * (decoded by `TenantConfig`, Config.ts). Everything here comes from outside, so every size is
 * bounded; cross-field rules (a prompt key that exists, a tool name that shadows a built-in)
 * are checked when a document is written (Tools/ConfigRules.ts).
 */

const message = (text: string) => ({ message: () => ({ message: text, override: true }) })

const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/
const KEY_HINT = "must be 1-64 letters, digits, '_', '.' or '-'"

const boundedText = (max: number) =>
  Schema.String.pipe(Schema.filter((text) => text.trim().length > 0 && text.length <= max, message(`must be text of 1-${max} characters`)))

/** `prompts`: prompt key -> the prompt (the call's instructions), at most 50 of 20,000 characters each. */
export const PromptsSettings = Schema.Record({ key: Schema.String, value: boundedText(20_000) }).pipe(
  Schema.filter((prompts) => {
    const keys = Object.keys(prompts)
    if (keys.length > 50) return "must hold at most 50 prompts"
    const bad = keys.find((key) => !KEY.test(key))
    return bad === undefined || `key ${JSON.stringify(bad.slice(0, 64))} ${KEY_HINT}`
  })
)

const depthOf = (value: unknown): number =>
  Array.isArray(value)
    ? 1 + Math.max(0, ...value.map(depthOf))
    : isJsonObject(value)
    ? 1 + Math.max(0, ...Object.values(value).map(depthOf))
    : 0

export const MAX_PARAMETERS_BYTES = 16_384
export const MAX_PARAMETERS_DEPTH = 10

/** A JSON Schema of `type: "object"`, as the model is given it: bounded in size and nesting. */
const ParametersSchema = Schema.Unknown.pipe(
  Schema.filter((value) => {
    if (!isJsonObject(value) || value.type !== "object") return "must be a JSON Schema object with type \"object\""
    if (JSON.stringify(value).length > MAX_PARAMETERS_BYTES) return `must be at most ${MAX_PARAMETERS_BYTES} bytes of JSON`
    if (depthOf(value) > MAX_PARAMETERS_DEPTH) return `must nest at most ${MAX_PARAMETERS_DEPTH} levels deep`
    return true
  })
)

export const TOOL_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/

export const MIN_TOOL_TIMEOUT_MS = 100
export const MAX_TOOL_TIMEOUT_MS = 30_000
export const DEFAULT_TOOL_TIMEOUT_MS = 5_000

const required = <A, I>(schema: Schema.Schema<A, I>, hint: string) =>
  Schema.propertySignature(schema.annotations(message(hint))).annotations({ missingMessage: () => `is required (${hint})` })

/** A function the tenant runs on its own server: we POST the call's context and the arguments to `url`. */
export const TenantToolSetting = Schema.Struct({
  name: required(Schema.String.pipe(Schema.pattern(TOOL_NAME)), "must be 1-64 letters, digits, '_' or '-', starting with a letter"),
  description: required(boundedText(1_024), "must be text of 1-1024 characters"),
  parameters: Schema.optionalWith(ParametersSchema, { default: () => ({ type: "object", properties: {} }) }),
  url: required(
    Schema.String.pipe(Schema.maxLength(2_048), Schema.pattern(/^https?:\/\/[^\s/$.?#][^\s]*$/i)),
    "must be an https URL of at most 2048 characters"
  ),
  timeout_ms: Schema.optionalWith(
    Schema.Int.pipe(Schema.between(MIN_TOOL_TIMEOUT_MS, MAX_TOOL_TIMEOUT_MS)).annotations(
      message(`must be an integer from ${MIN_TOOL_TIMEOUT_MS} to ${MAX_TOOL_TIMEOUT_MS}`)
    ),
    { default: () => DEFAULT_TOOL_TIMEOUT_MS }
  )
})
export type TenantToolSetting = typeof TenantToolSetting.Type

export const ToolsSettings = Schema.Array(TenantToolSetting).pipe(
  Schema.maxItems(32, { message: () => "must hold at most 32 tools" })
)

export const SMS_KINDS = ["tracking", "issue_intake", "phone_order", "post_call_survey", "troubleshooting"] as const
export type SmsKind = typeof SMS_KINDS[number]

const Template = boundedText(1_600)

/** `sms`: per-automation templates (`{placeholder}` fields) and the links they share. */
export const SmsSettings = Schema.Struct({
  templates: Schema.optional(Schema.partial(Schema.Struct(Object.fromEntries(SMS_KINDS.map((kind) => [kind, Template])) as Record<SmsKind, typeof Template>))),
  issue_intake_url: Schema.optional(Schema.String.pipe(Schema.maxLength(2_048))),
  survey_url: Schema.optional(Schema.String.pipe(Schema.maxLength(2_048))),
  troubleshooting_url: Schema.optional(Schema.String.pipe(Schema.maxLength(2_048)))
})
export type SmsSettings = typeof SmsSettings.Type

/** `email`: the endpoint (Loop) follow-up emails are posted to, signed with the webhook secret. */
export const EmailSettings = Schema.Struct({
  url: required(
    Schema.String.pipe(Schema.maxLength(2_048), Schema.pattern(/^https?:\/\/[^\s/$.?#][^\s]*$/i)),
    "must be an https URL"
  ),
  from: Schema.optional(Schema.String.pipe(Schema.maxLength(320))),
  subject: Schema.optional(boundedText(200))
})
export type EmailSettings = typeof EmailSettings.Type
