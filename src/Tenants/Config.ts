import { Either, ParseResult, Schema } from "effect"
import { EmailSettings, PromptsSettings, SmsSettings, ToolsSettings } from "./ToolSettings.js"

/**
 * The typed view of a tenant's configuration document, decoded once: when a document is
 * validated on write and when a stored one enters the tenant cache. Keys the service does
 * not read stay in the document itself (`TenantDocument`), which is what GET/PUT round-trip.
 *
 * Two kinds of field:
 * - validated (`setting`): checked on write since the first release; a bad value rejects the
 *   document with a message naming the key.
 * - tolerated (`tolerated`): never checked on write, so stored documents may hold anything
 *   there; a value of the wrong type reads as unset, exactly as the readers always treated it.
 * Secrets decode to `Redacted`, so a config that ends up in a log or a span shows `<redacted>`.
 * Messages name the key and never echo the value (they are logged for stored documents).
 */

const hint = (message: string) => ({ message: () => message })
/** Also replaces the messages of the parts (a union's members, a refinement's base type). */
const onlyHint = (message: string) => ({ message: () => ({ message, override: true }) })

const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const JsonObject = Schema.declare(isJsonObject).annotations(hint("must be an object"))

/** An object whose known keys decode with `fields`; other keys are ignored here (kept in the document). */
const objectOf = <Fields extends Schema.Struct.Fields>(fields: Fields) =>
  Schema.compose(JsonObject, Schema.Struct(fields), { strict: false })

const StringValue = Schema.String.annotations(hint("must be a string"))

const matching = (pattern: RegExp, message: string) =>
  StringValue.pipe(Schema.filter((value) => pattern.test(value), hint(message)))

/** Absent or null: unset; anything else must decode as `schema`. */
const setting = <A, I>(schema: Schema.Schema<A, I>) =>
  Schema.optionalWith(
    Schema.transformOrFail(Schema.Unknown, Schema.UndefinedOr(Schema.typeSchema(schema)), {
      strict: true,
      decode: (input, options) =>
        input === null || input === undefined ? ParseResult.succeed(undefined) : ParseResult.decodeUnknown(schema)(input, options),
      encode: (value) => value === undefined ? ParseResult.succeed(null) : ParseResult.encodeUnknown(schema)(value)
    }),
    { exact: true }
  )

/** Never validated on write: a value that does not decode as `schema` reads as unset. */
const tolerated = <A, I>(schema: Schema.Schema<A, I>) =>
  Schema.optionalWith(
    Schema.transformOrFail(Schema.Unknown, Schema.UndefinedOr(Schema.typeSchema(schema)), {
      strict: true,
      decode: (input) => ParseResult.succeed(Either.getOrUndefined(ParseResult.decodeUnknownEither(schema)(input))),
      encode: (value) => value === undefined ? ParseResult.succeed(null) : ParseResult.encodeUnknown(schema)(value)
    }),
    { exact: true }
  )

/** Text where "" means unset (how every top-level string was read). */
const Text = Schema.transform(StringValue, Schema.UndefinedOr(Schema.String), {
  strict: true,
  decode: (value) => value === "" ? undefined : value,
  encode: (value) => value ?? ""
})

const Secret = Schema.Redacted(StringValue)

const AUDIO_PROVIDERS = ["openai", "elevenlabs"] as const

const TwilioSettings = objectOf({
  account_sid: setting(matching(/^AC[0-9a-fA-F]{32}$/, "must look like AC followed by 32 hex characters")),
  auth_token: setting(Secret),
  from_number: setting(matching(/^\+[1-9]\d{6,14}$/, "must be an E.164 number such as +15555551234"))
})

const ELEVENLABS_ID_HINT = "must be 1-64 characters of letters, digits, '_' or '-'"

/** ElevenLabs voice for `audio_output_provider: "elevenlabs"`; the key falls back to ELEVENLABS_API_KEY. */
const ElevenLabsSettings = objectOf({
  api_key: tolerated(Schema.Redacted(Schema.String)),
  voice_id: setting(matching(/^[A-Za-z0-9_-]{1,64}$/, ELEVENLABS_ID_HINT)),
  model_id: setting(matching(/^[A-Za-z0-9_-]{1,64}$/, ELEVENLABS_ID_HINT))
})

/** Where transfers go: `escalate_call_to_human` dials only these numbers. */
const EscalationSettings = objectOf({
  number: tolerated(Schema.String),
  departments: tolerated(
    Schema.transform(JsonObject, Schema.Record({ key: Schema.String, value: Schema.String }), {
      strict: true,
      // A department whose number is not a string was never dialled; drop it here.
      decode: (departments) =>
        Object.fromEntries(Object.entries(departments).filter((entry): entry is [string, string] => typeof entry[1] === "string")),
      encode: (departments) => departments
    })
  ),
  announcement: tolerated(Schema.String),
  /** How a supervisor's `escalate` session action transfers (the spec's body has no mode): cold unless "warm". */
  supervisor_mode: tolerated(Schema.Literal("warm", "cold"))
})

/** What is checked on write in `escalation`: only keys added after it was first stored. */
const EscalationChecked = objectOf({ supervisor_mode: setting(Schema.Literal("warm", "cold").annotations(onlyHint("must be one of warm, cold"))) })

/**
 * `escalation` stays tolerated (stored documents may hold anything there, read as unset),
 * except `supervisor_mode`, which is validated: a typo must not silently mean a cold transfer.
 */
const escalationSetting = Schema.optionalWith(
  Schema.transformOrFail(Schema.Unknown, Schema.UndefinedOr(Schema.typeSchema(EscalationSettings)), {
    strict: true,
    decode: (input, options) =>
      isJsonObject(input)
        ? ParseResult.map(
          ParseResult.decodeUnknown(EscalationChecked)(input, options),
          () => Either.getOrUndefined(ParseResult.decodeUnknownEither(EscalationSettings)(input))
        )
        : ParseResult.succeed(undefined),
    encode: (value) => value === undefined ? ParseResult.succeed(null) : ParseResult.encodeUnknown(EscalationSettings)(value)
  }),
  { exact: true }
)

/**
 * Opening hours: `hours` maps a weekday to "09:00-17:00", a list of ranges, null or "closed".
 * The day values are checked when the business-hours tool reads them, which reports a bad one.
 */
const BusinessHoursSettings = objectOf({
  timezone: tolerated(Schema.String),
  hours: tolerated(JsonObject),
  closed_dates: tolerated(Schema.Array(Schema.Unknown)),
  /** Same as `closed_dates` (dates "YYYY-MM-DD" in the tenant's time zone); both apply. */
  holidays: tolerated(Schema.Array(Schema.Unknown))
})

const PositiveInt = Schema.Int.pipe(Schema.positive()).annotations(onlyHint("must be a positive integer"))
const Flag = Schema.Boolean.annotations(hint("must be true or false"))
const AtCap = <const C extends ReadonlyArray<string>>(...choices: C) =>
  Schema.Literal(...choices).annotations(onlyHint(`must be one of ${choices.join(", ")}`))

/** Cost and abuse limits (docs/limits.md); an unset one takes the platform default. */
const LimitsSettings = objectOf({
  max_concurrent_calls: setting(PositiveInt),
  outbound_calls_per_minute: setting(PositiveInt),
  outbound_calls_per_day: setting(PositiveInt),
  sms_per_minute: setting(PositiveInt),
  sms_per_day: setting(PositiveInt),
  monthly_call_minutes: setting(PositiveInt),
  allowed_country_codes: setting(
    Schema.Array(matching(/^(\*|[1-9]\d{0,2})$/, "must be country calling codes such as \"1\" or \"44\", or \"*\""))
  ),
  allow_premium: setting(Flag),
  allow_satellite: setting(Flag),
  /** An inbound call over a concurrency cap: a polite hang-up, or that plus a callback task. */
  over_capacity: setting(AtCap("say_and_hang_up", "callback_task")),
  /** An inbound call once the monthly minutes are spent. */
  inbound_over_budget: setting(AtCap("answer", "say_and_hang_up", "callback_task"))
})

/**
 * Outbound calls (make-call): what to do when a machine answers (Twilio's asynchronous
 * answering-machine detection is requested only when `on_machine` is set), and whether
 * calls are recorded (`recording_url` on the call log, from Twilio's recording callback).
 */
const OutboundSettings = objectOf({
  on_machine: setting(AtCap("voicemail", "hang_up")),
  voicemail_message: setting(
    StringValue.pipe(Schema.minLength(1), Schema.maxLength(1_000)).annotations(onlyHint("must be 1-1000 characters"))
  ),
  record_calls: setting(Flag)
}).pipe(
  Schema.filter((settings) =>
    settings.on_machine !== "voicemail" || settings.voicemail_message !== undefined ||
    { path: ["voicemail_message"], message: "is required when on_machine is voicemail" }
  )
)

const Share = Schema.Number.pipe(Schema.filter((n) => Number.isFinite(n) && n >= 0 && n <= 1))
  .annotations(onlyHint("must be a number from 0 to 1"))

/**
 * Canary-vs-baseline limits for this tenant's rollout governance policies (docs/rollouts.md);
 * an unset one takes the platform default. `min_samples` is the calls (and evals) each side
 * needs before a signal is compared (default: the policy's `min_eval_count`).
 */
const RolloutGovernanceSettings = objectOf({
  max_score_drop: setting(Share),
  max_escalation_rate_increase: setting(Share),
  max_failure_rate_increase: setting(Share),
  max_abandonment_rate_increase: setting(Share),
  max_p95_latency_increase_ms: setting(
    Schema.Int.pipe(Schema.between(0, 600_000)).annotations(onlyHint("must be an integer from 0 to 600000"))
  ),
  min_samples: setting(Schema.Int.pipe(Schema.between(1, 1_000_000)).annotations(onlyHint("must be an integer from 1 to 1000000"))),
  /** false: governance recommends promotion but leaves it to a person (rollbacks still apply). */
  auto_promote: setting(Flag)
})

const TENANT_ID_HINT = "must be 1-128 characters of letters, digits, '_', '-' or '.'"

export class TenantConfig extends Schema.Class<TenantConfig>("TenantConfig")({
  tenant_id: Schema.propertySignature(
    Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/)).annotations(onlyHint(TENANT_ID_HINT))
  ).annotations({ missingMessage: () => TENANT_ID_HINT }),
  model: setting(Text),
  org_id: setting(Text),
  voice: setting(Text),
  system_prompt_key: setting(Text),
  display_name: setting(Text),
  /** Legacy bearer token of the tenant. */
  auth_token: setting(Schema.Redacted(StringValue.pipe(Schema.minLength(16, hint("must be at least 16 characters"))))),
  webhook_url: setting(matching(/^https?:\/\/[^\s/$.?#][^\s]*$/i, "must be an http(s) URL")),
  /** Signs webhook deliveries (Standard Webhooks, `whsec_` + base64); the previous one also signs during a rotation. */
  webhook_secret: setting(Schema.Redacted(StringValue.pipe(Schema.minLength(16, hint("must be at least 16 characters"))))),
  webhook_secret_previous: setting(Schema.Redacted(StringValue.pipe(Schema.minLength(16, hint("must be at least 16 characters"))))),
  audio_output_provider: setting(
    Schema.Literal(...AUDIO_PROVIDERS).annotations(onlyHint(`must be one of ${AUDIO_PROVIDERS.join(", ")}`))
  ),
  twilio: setting(TwilioSettings),
  elevenlabs: setting(ElevenLabsSettings),
  instructions: tolerated(Text),
  greeting: tolerated(Text),
  escalation_number: tolerated(Text),
  escalation: escalationSetting,
  business_hours: tolerated(BusinessHoursSettings),
  kafka: tolerated(JsonObject),
  limits: setting(LimitsSettings),
  /** Post-call analysis (docs/call-analysis.md); unset = on when the platform has OPENAI_API_KEY. */
  call_analysis_enabled: setting(Flag),
  outbound: setting(OutboundSettings),
  /** The prompt library: `system_prompt_key` (tenant or agent version) names one of these or a built-in. */
  prompts: setting(PromptsSettings),
  /** Functions the tenant runs on its own servers, offered to its agent (Tools/TenantTools.ts). */
  tools: setting(ToolsSettings),
  sms: setting(SmsSettings),
  email: setting(EmailSettings),
  rollout_governance: setting(RolloutGovernanceSettings)
}) {}

const decode = Schema.decodeUnknownEither(TenantConfig, { errors: "all", onExcessProperty: "ignore" })

/** The typed config of `document`, or every problem found, each naming its key ("twilio.from_number must be ..."). */
export const decodeTenantConfig = (document: unknown): Either.Either<TenantConfig, string> =>
  Either.mapLeft(decode(document), (error) =>
    ParseResult.ArrayFormatter.formatErrorSync(error)
      .map((issue) => `${issue.path.join(".")} ${issue.message}`)
      .join("; "))
