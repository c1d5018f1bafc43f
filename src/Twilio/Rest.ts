import { FetchHttpClient, HttpClient, HttpClientRequest, HttpClientResponse, UrlParams } from "@effect/platform"
import { Effect, Option, Schema } from "effect"
import { AppConfig } from "../Config.js"

export interface TwilioCredentials {
  readonly accountSid: string
  readonly authToken: string
}

/** A call resource as Twilio's REST API returns it (the fields we read). */
export const TwilioCall = Schema.Struct({
  sid: Schema.String,
  status: Schema.String,
  to: Schema.optional(Schema.NullOr(Schema.String)),
  from: Schema.optional(Schema.NullOr(Schema.String))
})
export type TwilioCall = typeof TwilioCall.Type

const TwilioErrorBody = Schema.Struct({
  code: Schema.optional(Schema.NullOr(Schema.Number)),
  message: Schema.optional(Schema.NullOr(Schema.String))
})

/**
 * Twilio answered with an error (`rejected`, with its HTTP status and error code) or could
 * not be reached / answered something unreadable (`unreachable`).
 */
export class TwilioRequestFailed extends Schema.TaggedError<TwilioRequestFailed>()("TwilioRequestFailed", {
  kind: Schema.Literal("rejected", "unreachable"),
  httpStatus: Schema.NullOr(Schema.Number),
  code: Schema.NullOr(Schema.Number),
  message: Schema.String
}) {}

type Params = Record<string, string | ReadonlyArray<string>>

/**
 * Twilio's REST API (2010-04-01) at TWILIO_API_BASE_URL: create a call, update a live call.
 * Its own HTTP client, so tests reach a fake Twilio on 127.0.0.1 over real HTTP.
 */
export class TwilioRest extends Effect.Service<TwilioRest>()("TwilioRest", {
  effect: Effect.gen(function*() {
    const config = yield* AppConfig
    const httpClient = yield* HttpClient.HttpClient

    const unreachable = (message: string) =>
      new TwilioRequestFailed({ kind: "unreachable", httpStatus: null, code: null, message })

    const rejected = (response: HttpClientResponse.HttpClientResponse) =>
      HttpClientResponse.schemaBodyJson(TwilioErrorBody)(response).pipe(
        Effect.option,
        Effect.flatMap((body) => {
          const detail = Option.getOrUndefined(body)
          return Effect.fail(
            new TwilioRequestFailed({
              kind: response.status >= 500 ? "unreachable" : "rejected",
              httpStatus: response.status,
              code: detail?.code ?? null,
              message: detail?.message ?? `Twilio answered HTTP ${response.status}`
            })
          )
        })
      )

    const post = (credentials: TwilioCredentials, path: string, params: Params) =>
      Effect.gen(function*() {
        const request = HttpClientRequest.post(`${config.twilioApiBaseUrl}/2010-04-01/Accounts/${
          encodeURIComponent(credentials.accountSid)
        }${path}`).pipe(
          HttpClientRequest.basicAuth(credentials.accountSid, credentials.authToken),
          HttpClientRequest.acceptJson,
          HttpClientRequest.bodyUrlParams(UrlParams.fromInput(params))
        )
        const response = yield* httpClient.execute(request).pipe(
          Effect.timeout("10 seconds"),
          Effect.catchAll((error) => Effect.fail(unreachable(`Twilio is unreachable: ${error.message}`)))
        )
        if (response.status >= 400) return yield* rejected(response)
        return yield* HttpClientResponse.schemaBodyJson(TwilioCall)(response).pipe(
          Effect.catchAll(() => Effect.fail(unreachable("Twilio answered with an unreadable call resource")))
        )
      }).pipe(Effect.scoped)

    return {
      /** POST /Accounts/{sid}/Calls.json */
      createCall: (credentials: TwilioCredentials, params: Params) =>
        post(credentials, "/Calls.json", params).pipe(Effect.withSpan("TwilioRest.createCall")),
      /** POST /Accounts/{sid}/Calls/{CallSid}.json: new TwiML, a status change, a redirect. */
      updateCall: (credentials: TwilioCredentials, callSid: string, params: Params) =>
        post(credentials, `/Calls/${encodeURIComponent(callSid)}.json`, params).pipe(
          Effect.withSpan("TwilioRest.updateCall")
        )
    } as const
  }),
  dependencies: [FetchHttpClient.layer]
}) {}
