import { Clock, Effect, Either, Option } from "effect"
import { AppConfig } from "../Config.js"
import { CallLogsRepo } from "../CallLogs/Repo.js"
import { GuardedHttpClient } from "../Egress/GuardedHttpClient.js"
import { Ids } from "../Ids.js"
import { Limits } from "../Limits/Limits.js"
import type { TenantConfig } from "../Tenants/Config.js"
import type { SmsKind } from "../Tenants/ToolSettings.js"
import { signedPost } from "../Tools/SignedPost.js"
import { invokeTenantTool, tenantTool } from "../Tools/TenantTools.js"
import { defaultFromNumber, isE164, twilioCredentials } from "../Twilio/Account.js"
import { TwilioClient } from "../Twilio/Client.js"
import { businessHours } from "./BusinessHours.js"
import { AutomationInvalid, AutomationLimited, AutomationUnavailable } from "./Errors.js"
import { assessEscalation, type Turn } from "./EscalationNeed.js"
import { renderSms } from "./SmsTemplates.js"

/** The spec's `AutomationPayload` as the automations read it (extra keys ignored). */
export interface AutomationInput {
  readonly call_sid?: string | null | undefined
  readonly customer_phone?: string | null | undefined
  readonly metadata?: unknown
  readonly reason?: string | null | undefined
  readonly session_id?: string | null | undefined
  readonly to?: string | null | undefined
}

export interface AutomationTenant {
  readonly tenantId: string
  readonly config: TenantConfig
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** Top-level metadata values usable in a template: text and numbers, lists of text joined. */
const metadataValues = (metadata: unknown): Record<string, string> => {
  if (!isObject(metadata)) return {}
  const values: Record<string, string> = {}
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value === "string") values[key] = value.slice(0, 500)
    else if (typeof value === "number" && Number.isFinite(value)) values[key] = String(value)
    else if (Array.isArray(value) && value.every((item) => typeof item === "string")) values[key] = value.join("; ").slice(0, 1_000)
  }
  return values
}

const TRACKING_FIELDS = ["tracking_number", "carrier", "tracking_url", "status"] as const

/** Tracking fields in a `get_order` reply: at its top level, under `order`, or under `result.order`. */
const trackingFrom = (reply: unknown): Record<string, string> => {
  const candidates = [reply, isObject(reply) ? reply.order : undefined, isObject(reply) && isObject(reply.result) ? reply.result.order : undefined]
  const found: Record<string, string> = {}
  for (const candidate of candidates.filter(isObject)) {
    for (const field of TRACKING_FIELDS) {
      const value = candidate[field]
      if (found[field] === undefined && (typeof value === "string" || typeof value === "number")) found[field] = String(value)
    }
  }
  return found
}

/** A transcript passed in `metadata.transcript`: a list of { role, content } or one text (the caller's). */
const transcriptFromMetadata = (metadata: unknown): ReadonlyArray<Turn> | undefined => {
  const transcript = isObject(metadata) ? metadata.transcript : undefined
  if (typeof transcript === "string") return [{ role: "user", content: transcript }]
  if (!Array.isArray(transcript)) return undefined
  return transcript.flatMap((turn) =>
    isObject(turn) && typeof turn.content === "string"
      ? [{ role: typeof turn.role === "string" ? turn.role : "user", content: turn.content }]
      : []
  )
}

/**
 * The automations of the spec's `automation` tag: texts through Twilio (gated by Limits like
 * dials), the follow-up email through the tenant's endpoint, business hours, escalation need.
 * The same service answers the REST endpoints and the agent's tools.
 */
export class Automations extends Effect.Service<Automations>()("Automations", {
  effect: Effect.gen(function*() {
    const platform = yield* AppConfig
    const twilio = yield* TwilioClient
    const limits = yield* Limits
    const callLogs = yield* CallLogsRepo
    const egress = yield* GuardedHttpClient
    const ids = yield* Ids
    /** Tenant endpoints are called through the egress guard. */
    const guarded = <A, E>(effect: Effect.Effect<A, E, GuardedHttpClient | Ids>) =>
      effect.pipe(Effect.provideService(GuardedHttpClient, egress), Effect.provideService(Ids, ids))

    const recipient = (input: AutomationInput) => {
      const to = input.to ?? input.customer_phone
      if (to === undefined || to === null || to.trim() === "") {
        return Effect.fail(new AutomationInvalid({ message: "customer_phone (or to) is required: the number to text" }))
      }
      const field = input.to === undefined || input.to === null ? "customer_phone" : "to"
      return isE164(to)
        ? Effect.succeed(to)
        : Effect.fail(new AutomationInvalid({ message: `${field} ${JSON.stringify(to.slice(0, 64))} is not an E.164 phone number such as +15555551234` }))
    }

    const templateValues = (tenant: AutomationTenant, kind: SmsKind, input: AutomationInput) =>
      Effect.gen(function*() {
        const values: Record<string, string> = {
          business_name: tenant.config.display_name ?? tenant.config.tenant_id,
          ...(tenant.config.sms?.issue_intake_url === undefined ? {} : { issue_intake_url: tenant.config.sms.issue_intake_url }),
          ...(tenant.config.sms?.survey_url === undefined ? {} : { survey_url: tenant.config.sms.survey_url }),
          ...metadataValues(input.metadata)
        }
        if (kind === "troubleshooting" && values.steps === undefined && tenant.config.sms?.troubleshooting_url !== undefined) {
          values.steps = tenant.config.sms.troubleshooting_url
        }
        // Tracking details not given: the tenant's own `get_order` tool knows them.
        const getOrder = tenantTool(tenant.config, "get_order")
        if (kind === "tracking" && values.tracking_number === undefined && getOrder !== undefined && values.order_id !== undefined) {
          const reply = yield* guarded(invokeTenantTool(getOrder, { order_id: values.order_id }, {
            tenantId: tenant.tenantId,
            tenantConfig: tenant.config,
            callSid: input.call_sid ?? null,
            streamSid: input.session_id ?? null,
            customerPhone: input.customer_phone ?? null
          })).pipe(Effect.mapError((failed) => new AutomationUnavailable({ message: `could not look up the order: ${failed.message}` })))
          for (const [field, value] of Object.entries(trackingFrom(reply))) values[field] ??= value
        }
        return values
      })

    const sms = Effect.fn("Automations.sms")(function*(tenant: AutomationTenant, kind: SmsKind, input: AutomationInput) {
      const to = yield* recipient(input)
      const credentials = twilioCredentials(tenant.config, platform)
      if (Option.isNone(credentials)) {
        return yield* new AutomationUnavailable({ message: "Twilio is not configured for this tenant (twilio.account_sid and twilio.auth_token)" })
      }
      const from = defaultFromNumber(tenant.config, platform)
      if (Option.isNone(from)) {
        return yield* new AutomationUnavailable({ message: "no number to text from is configured (twilio.from_number)" })
      }
      const body = yield* Either.match(renderSms(tenant.config, kind, yield* templateValues(tenant, kind, input)), {
        onLeft: (message) => Effect.fail(new AutomationInvalid({ message })),
        onRight: Effect.succeed
      })
      // A text costs money: the same gate as a dial (destinations, velocity).
      yield* limits.admit({ tenantId: tenant.tenantId, config: tenant.config }, { kind: "sms", destinations: [to], from: from.value }).pipe(
        Effect.catchTags({
          LimitRefused: (refusal) =>
            refusal.status === 429
              ? Effect.fail(new AutomationLimited({ message: refusal.message }))
              : Effect.fail(new AutomationInvalid({ message: refusal.message })),
          DatabaseUnavailable: (error) => Effect.fail(new AutomationUnavailable({ message: error.message })),
          InvalidInput: (error) => Effect.fail(new AutomationInvalid({ message: error.message }))
        })
      )
      const message = yield* twilio.sendMessage(credentials.value, { to, from: from.value, body }).pipe(
        Effect.catchTags({
          TwilioRejected: (error) => Effect.fail(new AutomationInvalid({ message: `Twilio refused the text: ${error.message}` })),
          TwilioUnavailable: (error) => Effect.fail(new AutomationUnavailable({ message: error.message }))
        })
      )
      const queuedAt = new Date(yield* Clock.currentTimeMillis).toISOString().replace(/\.\d{3}Z$/, "Z")
      return { message_sid: message.sid, queued_at: queuedAt, status: message.status, to, from: from.value, body, kind }
    })

    const email = Effect.fn("Automations.email")(function*(tenant: AutomationTenant, input: AutomationInput) {
      const endpoint = tenant.config.email
      if (endpoint === undefined) {
        return yield* new AutomationUnavailable({ message: "no email endpoint is configured for this tenant (email.url)" })
      }
      const values = metadataValues(input.metadata)
      const payload = {
        type: "loop_followup",
        tenant_id: tenant.tenantId,
        call_sid: input.call_sid ?? null,
        session_id: input.session_id ?? null,
        customer_phone: input.customer_phone ?? null,
        to: input.to ?? values.email ?? null,
        from: endpoint.from ?? null,
        subject: endpoint.subject ?? `Following up on your call with ${tenant.config.display_name ?? tenant.config.tenant_id}`,
        reason: input.reason ?? null,
        metadata: isObject(input.metadata) ? input.metadata : {}
      }
      const reply = yield* guarded(signedPost(tenant.config, endpoint.url, payload, 10_000))
      if (reply._tag === "Failed") {
        return yield* new AutomationUnavailable({ message: `the email endpoint did not take the message: ${reply.message}` })
      }
      const answered = isObject(reply.body) ? reply.body : {}
      const id = answered.message_id ?? answered.id ?? null
      const queuedAt = new Date(yield* Clock.currentTimeMillis).toISOString().replace(/\.\d{3}Z$/, "Z")
      return { message_id: typeof id === "string" ? id : null, queued_at: queuedAt, status: reply.status }
    })

    const hours = Effect.fn("Automations.businessHours")(function*(tenant: AutomationTenant, input: AutomationInput) {
      const zone = metadataValues(input.metadata).timezone
      const now = new Date(yield* Clock.currentTimeMillis)
      return yield* Either.match(businessHours(tenant.config, now, zone), {
        onLeft: (message) => Effect.fail(new AutomationInvalid({ message })),
        onRight: Effect.succeed
      })
    })

    /** Transcript: given in metadata, else the live call's (from a tool), else the call's record. */
    const escalationNeed = Effect.fn("Automations.escalationNeed")(
      function*(tenant: AutomationTenant, input: AutomationInput, live?: ReadonlyArray<Turn>) {
        const given = transcriptFromMetadata(input.metadata)
        let source = "metadata"
        let turns: ReadonlyArray<Turn> | undefined = given
        if (turns === undefined && live !== undefined) [turns, source] = [live, "live_call"]
        const sid = input.session_id ?? input.call_sid
        if (turns === undefined && sid !== undefined && sid !== null) {
          const stored = yield* callLogs.transcriptFor(tenant.tenantId, sid).pipe(
            Effect.mapError((error) => new AutomationUnavailable({ message: error.message }))
          )
          if (stored === undefined) return yield* new AutomationInvalid({ message: `no call ${sid} found for this tenant` })
          ;[turns, source] = [stored, "call_log"]
        }
        if (turns === undefined) {
          return yield* new AutomationInvalid({
            message: "nothing to assess: pass metadata.transcript, or the call_sid or session_id of a call"
          })
        }
        return { ...assessEscalation(turns, input.reason), source }
      }
    )

    return { sms, email, businessHours: hours, escalationNeed } as const
  }),
  dependencies: [CallLogsRepo.Default, TwilioClient.Default]
}) {}
