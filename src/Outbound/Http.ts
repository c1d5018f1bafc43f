import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Effect, Layer, Schema } from "effect"
import { Api } from "../Api.js"
import { CurrentTenant, TenantAuth } from "../Auth/Middleware.js"
import {
  MakeCallConflict,
  MakeCallForbidden,
  MakeCallLimited,
  MakeCallRejected,
  MakeCallResponse,
  MakeCallUnavailable,
  TranslationCallForbidden,
  TranslationCallLimited,
  TranslationCallRejected,
  TranslationCallAuth,
  TranslationCallResponse,
  TranslationCallUnauthorized,
  TranslationCallUnavailable,
  TranslationCallUpstreamFailed
} from "./Api.js"
import { type OutboundCallFailed, OutboundCalls } from "./OutboundCalls.js"
import { Ids } from "../Ids.js"
import { Idempotency, MAX_KEY_LENGTH } from "./Idempotency.js"

const decodeStored = Schema.decodeUnknownOption(MakeCallResponse)
const PRINTABLE = /^[\x21-\x7e]+$/

const TranslationCallAuthLive = Layer.effect(
  TranslationCallAuth,
  Effect.map(TenantAuth, (auth) => ({
    bearer_auth: (token: Parameters<typeof auth.bearer_auth>[0]) =>
      auth.bearer_auth(token).pipe(
        Effect.catchTag("ApiUnauthorized", (error) =>
          Effect.fail(
            new TranslationCallUnauthorized({
              message: error.message,
              room_id: "",
              participant_a_call_sid: null,
              participant_b_call_sid: null
            })
          ))
      )
  }))
)

export const CallsHttp = HttpApiBuilder.group(Api, "calls", (handlers) =>
  Effect.gen(function*() {
    const outbound = yield* OutboundCalls
    const ids = yield* Ids
    const idempotency = yield* Idempotency

    return handlers
      .handle("makeCall", ({ payload }) =>
        Effect.gen(function*() {
          const tenant = yield* CurrentTenant
          const fields = { to: payload.to, from: payload.from ?? null }
          const key = (yield* HttpServerRequest.HttpServerRequest).headers["idempotency-key"]
          const wire = (error: OutboundCallFailed) => {
            const fields = { message: error.message, to: payload.to, from: payload.from ?? null }
            // A Twilio failure that is not the caller's fault answers 503, the spec's only upstream status here.
            switch (error.status) {
              case 400: return new MakeCallRejected(fields)
              case 403: return new MakeCallForbidden(fields)
              case 429: return new MakeCallLimited(fields)
              default: return new MakeCallUnavailable(fields)
            }
          }
          const dial = Effect.gen(function*() {
            const placed = yield* outbound.makeCall(tenant, {
              to: payload.to,
              from: payload.from,
              agentKey: payload.agent_key,
              agentVersionId: payload.agent_version_id,
              agentName: payload.agent_name,
              greeting: payload.greeting
            })
            return new MakeCallResponse({
              ok: true,
              call_sid: placed.callSid,
              status: placed.status,
              to: placed.to,
              from: placed.from,
              error: null
            })
          })
          if (key === undefined) return yield* Effect.mapError(dial, wire)
          if (key.length > MAX_KEY_LENGTH || !PRINTABLE.test(key)) {
            return yield* new MakeCallRejected({
              ...fields,
              message: `Idempotency-Key must be 1-${MAX_KEY_LENGTH} printable ASCII characters`
            })
          }
          return yield* idempotency.once(
            tenant.tenantId,
            key,
            { ...payload },
            dial,
            (answer) => MakeCallResponse.make(answer),
            decodeStored,
            (error) => error.outcomeUnknown === true
          ).pipe(
            Effect.catchTags({
              OutboundCallFailed: (error) => Effect.fail(wire(error)),
              IdempotencyConflict: (error) => Effect.fail(new MakeCallConflict({ ...fields, message: error.message })),
              DatabaseUnavailable: (error) => Effect.fail(new MakeCallUnavailable({ ...fields, message: error.message }))
            })
          )
        }))
      .handle("startTranslationCall", ({ payload }) =>
        Effect.gen(function*() {
          const tenant = yield* CurrentTenant
          const roomId = yield* ids.uuid
          const started = yield* outbound.startTranslation(tenant, roomId, {
            a: payload.participant_a,
            b: payload.participant_b,
            from: payload.from,
            ...(payload.language_a === undefined ? {} : { languageA: payload.language_a }),
            ...(payload.language_b === undefined ? {} : { languageB: payload.language_b })
          }).pipe(Effect.mapError((error: OutboundCallFailed) => {
            const fields = {
              message: error.message,
              room_id: roomId,
              participant_a_call_sid: error.placed[0] ?? null,
              participant_b_call_sid: null
            }
            switch (error.status) {
              case 400: return new TranslationCallRejected(fields)
              case 403: return new TranslationCallForbidden(fields)
              case 429: return new TranslationCallLimited(fields)
              case 502: return new TranslationCallUpstreamFailed(fields)
              default: return new TranslationCallUnavailable(fields)
            }
          }))
          return new TranslationCallResponse({
            ok: true,
            room_id: roomId,
            participant_a_call_sid: started.a,
            participant_b_call_sid: started.b,
            error: null
          })
        }))
  })).pipe(Layer.provide(TranslationCallAuthLive))
