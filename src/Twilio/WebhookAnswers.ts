import { Effect, Option } from "effect"
import { DatabaseUnavailable, InvalidInput } from "../Database/Errors.js"
import type { SetupLoad } from "../Limits/SetupLoad.js"
import { label, webhookToTwimlWith } from "../Observability/Metrics.js"
import { WebhookBadRequest, WebhookUnauthorized } from "./Api.js"
import type { makeStreamConnect } from "./StreamConnect.js"
import { choiceOf, type Resolution, type TenantResolution } from "./TenantResolution.js"
import { sayAndHangUp, UNAVAILABLE_MESSAGE, UNKNOWN_NUMBER_MESSAGE } from "./Twiml.js"
import { badRequest, type CallKind, type TenantRef, text, type VoiceWebhook, webhookCall } from "./VoiceWebhook.js"
import { knownOr, onRun, type WebhookRun } from "./WebhookRun.js"

export interface WebhookAnswersServices {
  readonly resolution: TenantResolution
  readonly setupLoad: SetupLoad
  readonly connect: ReturnType<typeof makeStreamConnect>
}

/** A database outage still answers the caller. */
const apology = (callSid: string) =>
  Effect.logWarning("voice webhook answered with an apology: database unavailable").pipe(
    Effect.annotateLogs("call_sid", callSid),
    Effect.as(sayAndHangUp(UNAVAILABLE_MESSAGE))
  )

/** An answer before its errors are mapped to the webhook's. */
type Answer<E> = Effect.Effect<string, E | DatabaseUnavailable | InvalidInput>

const missingCallSid = Effect.fail(new WebhookBadRequest({ message: "Missing required parameter CallSid" }))

/** Webhook in -> TwiML out, by `direction` as in the call log. */
const twimlMs = {
  inbound: webhookToTwimlWith([label("direction", "inbound")]),
  outbound: webhookToTwimlWith([label("direction", "outbound")]),
  sip_inbound: webhookToTwimlWith([label("direction", "sip_inbound")]),
  sip_outbound: webhookToTwimlWith([label("direction", "sip_outbound")])
} as const

/** Times `answer` into the webhook -> TwiML histogram, whatever the answer was. */
const timed = <A, E, R>(run: WebhookRun, direction: keyof typeof twimlMs, answer: Effect.Effect<A, E, R>) => {
  const started = run.now()
  return Effect.ensuring(answer, Effect.sync(() => twimlMs[direction].unsafeUpdate(run.now() - started, run.metricLabels)))
}

/** The span's `call.sid` (only a span that is exported has one to carry). */
const annotate = (run: WebhookRun, callSid: string) => {
  if (run.traced && Option.isSome(run.span)) run.span.value.attribute("call.sid", callSid)
}

/**
 * Twilio's voice webhooks answered with TwiML: find the tenant (signature-checked), pick the
 * agent version, open the call log, and connect the call to `/media-stream` with a fresh stream
 * token. A caller always hears something: an unknown number or an outage gets a short apology
 * before the hang-up. One path: a warm hint, tenant, agent and secret are plain code; anything
 * else (a cold cache, `?tenant=`, a route or account lookup) is its Effect in the same place.
 */
export const makeWebhookAnswers = ({ connect, resolution, setupLoad }: WebhookAnswersServices) => {
  const onResolution = (run: WebhookRun, kind: CallKind, hook: VoiceWebhook, callSid: string, resolved: Resolution): Answer<WebhookUnauthorized> => {
    switch (resolved._tag) {
      case "BadSignature":
        return Effect.fail(new WebhookUnauthorized({ message: "Invalid Twilio signature" }))
      case "Unknown":
        return Effect.logWarning("voice webhook for an unknown number").pipe(
          Effect.annotateLogs({ call_sid: callSid, to: text(hook.params, "To") ?? "", direction: kind }),
          Effect.as(sayAndHangUp(UNKNOWN_NUMBER_MESSAGE))
        )
      case "Resolved": {
        // Built before the shedding decides (cache reads only: its statements run when admitted).
        const setUp = connect(run, resolved.tenant, hook, kind, callSid, resolved.route)
        // Our own outbound calls were admitted when dialled: only an inbound one is shed.
        return kind === "inbound" ? setupLoad.admit(callSid, setUp) : setUp
      }
    }
  }

  /** The shell of every answer: CallSid required, timed, an outage apologised for, bad input a 400. */
  const answering = <E>(
    run: WebhookRun,
    direction: keyof typeof twimlMs,
    hook: VoiceWebhook,
    body: (callSid: string) => Answer<E>
  ): Effect.Effect<string, WebhookBadRequest | E> => {
    const callSid = text(hook.params, "CallSid")
    if (callSid === undefined) return timed(run, direction, missingCallSid)
    annotate(run, callSid)
    const answer: Effect.Effect<string, WebhookBadRequest | E> = Effect.catchIf(
      body(callSid),
      (error) => error instanceof DatabaseUnavailable || error instanceof InvalidInput,
      (error) => error instanceof DatabaseUnavailable ? apology(callSid) : badRequest(error)
    )
    return timed(run, direction, answer)
  }

  const answerOn = (run: WebhookRun, kind: CallKind, hook: VoiceWebhook) =>
    answering<WebhookUnauthorized>(run, kind, hook, (callSid) => {
      const call = webhookCall(hook, kind, false)
      const hinted = run.traced ? undefined : resolution.resolveFromHintNow(call, run.now())
      return knownOr(hinted, () => resolution.resolve(call), (resolved) => onResolution(run, kind, hook, callSid, resolved))
    })

  /** SIP trunks authenticate with the tenant's bearer: no resolution, the route only picks the agent. */
  const answerSipOn = (run: WebhookRun, kind: CallKind, tenant: TenantRef, hook: VoiceWebhook) =>
    answering<never>(run, kind === "inbound" ? "sip_inbound" : "sip_outbound", hook, (callSid) => {
      const call = webhookCall(hook, kind, true)
      const route = call.number === undefined ? Effect.succeedNone : resolution.route(call.number, call.direction)
      return Effect.flatMap(route, (found) => {
        const own = Option.filter(found, (route) => route.tenantId === tenant.tenantId)
        return connect(run, tenant, hook, kind, callSid, Option.isSome(own) ? choiceOf(own.value) : null)
      })
    })

  return {
    answer: (kind: CallKind, hook: VoiceWebhook) => onRun("VoiceWebhooks.answer", (run) => answerOn(run, kind, hook)),
    answerSip: (kind: CallKind, tenant: TenantRef, hook: VoiceWebhook) =>
      onRun("VoiceWebhooks.answerSip", (run) => answerSipOn(run, kind, tenant, hook))
  } as const
}
