import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Effect, Layer } from "effect"
import { Api } from "../Api.js"
import { CurrentTenant } from "../Auth/Middleware.js"
import { AppConfig } from "../Config.js"
import { signedWebhook, type VoiceWebhook } from "./VoiceWebhook.js"
import { VoiceWebhooks } from "./Webhooks.js"
import { CallStatusAckResponse, TwilioSignatureProbe, WebhookBadRequest, WebhookQuery } from "./Api.js"

/** The probe only documents the header; VoiceWebhooks checks it once it knows the tenant. */
const TwilioSignatureProbeLive = Layer.succeed(TwilioSignatureProbe, { twilio_signature: () => Effect.void })

/** The request's webhook (`signedWebhook`), its query decoded as the endpoint declares it. */
const webhookOf = (payload: VoiceWebhook["params"], signed: boolean) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const config = yield* AppConfig
    const query = yield* HttpServerRequest.schemaSearchParams(WebhookQuery).pipe(
      Effect.mapError(() => new WebhookBadRequest({ message: "Each query parameter may appear only once" }))
    )
    return signedWebhook(config.publicBaseUrl, request, payload, signed, query)
  })

export const CallWebhooksHttp = HttpApiBuilder.group(Api, "callWebhooks", (handlers) =>
  Effect.gen(function*() {
    const webhooks = yield* VoiceWebhooks
    const config = yield* AppConfig
    const withConfig = Effect.provideService(AppConfig, config)

    return handlers
      .handle("incomingCall", ({ payload }) =>
        webhookOf(payload, true).pipe(withConfig, Effect.flatMap((hook) => webhooks.answer("inbound", hook))))
      .handle("outboundCall", ({ payload }) =>
        webhookOf(payload, true).pipe(withConfig, Effect.flatMap((hook) => webhooks.answer("outbound", hook))))
      .handle("callStatus", ({ payload }) =>
        webhookOf(payload, true).pipe(
          withConfig,
          Effect.flatMap(webhooks.status),
          Effect.map((recorded) => new CallStatusAckResponse({ ok: recorded }))
        ))
  })).pipe(Layer.provide(TwilioSignatureProbeLive))

export const CallWebhooksSipHttp = HttpApiBuilder.group(Api, "callWebhooksSip", (handlers) =>
  Effect.gen(function*() {
    const webhooks = yield* VoiceWebhooks
    const config = yield* AppConfig
    const withConfig = Effect.provideService(AppConfig, config)

    return handlers
      .handle("incomingCallSip", ({ payload }) =>
        Effect.flatMap(
          Effect.zip(CurrentTenant, webhookOf(payload, false).pipe(withConfig)),
          ([tenant, hook]) => webhooks.answerSip("inbound", tenant, hook)
        ))
      .handle("outboundCallSip", ({ payload }) =>
        Effect.flatMap(
          Effect.zip(CurrentTenant, webhookOf(payload, false).pipe(withConfig)),
          ([tenant, hook]) => webhooks.answerSip("outbound", tenant, hook)
        ))
  }))
