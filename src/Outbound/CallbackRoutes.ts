import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect } from "effect"
import { AppConfig } from "../Config.js"
import { AMD_CALLBACK_PATH, type CallbackOutcome, MachineAnswers, RECORDING_CALLBACK_PATH, type SignedCallback } from "./MachineAnswers.js"

const STATUS: Record<CallbackOutcome, readonly [number, string]> = {
  ok: [200, "ok"],
  bad_request: [400, "Missing or invalid callback parameters"],
  unauthorized: [401, "Invalid Twilio signature"],
  // Acknowledged so Twilio does not retry a callback for a tenant that is gone.
  unknown_tenant: [200, "ok"]
}

/**
 * Twilio's answering-machine and recording callbacks for make-call (not in the spec: the
 * URLs are ours, handed to Twilio with each dial). Form posts, signed with the tenant's
 * Twilio auth token over PUBLIC_BASE_URL + path + query, like the voice webhooks.
 */
export const OutboundCallbackRoutesLive = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const answers = yield* MachineAnswers
    const handle = (run: (hook: SignedCallback) => Effect.Effect<CallbackOutcome, { readonly _tag: string; readonly message: string }>) =>
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const form = yield* request.urlParamsBody.pipe(Effect.option)
        if (form._tag === "None") return HttpServerResponse.text("Body must be form-encoded", { status: 400 })
        const params: Record<string, string> = {}
        for (const [key, value] of form.value) {
          if (key in params) return HttpServerResponse.text(`Parameter ${key} appears more than once`, { status: 400 })
          params[key] = value
        }
        const query = new URL(request.url, "http://callback").searchParams
        const outcome = yield* run({
          url: `${config.publicBaseUrl}${request.originalUrl}`,
          params,
          signature: request.headers["x-twilio-signature"],
          tenant: query.get("tenant") ?? undefined
        }).pipe(
          Effect.map((outcome) => STATUS[outcome]),
          Effect.catchAll((error) =>
            Effect.succeed(
              error._tag === "InvalidInput"
                ? [400, error.message] as const
                : [503, "Service unavailable; try again shortly"] as const
            )
          )
        )
        return HttpServerResponse.text(outcome[1], { status: outcome[0] })
      })
    yield* router.post(AMD_CALLBACK_PATH, handle(answers.amd))
    yield* router.post(RECORDING_CALLBACK_PATH, handle(answers.recording))
  })
)
