import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, Option } from "effect"
import { AppConfig } from "../Config.js"
import { TenantCache } from "../TenantCache/TenantCache.js"
import { webhookAuthToken } from "../Twilio/Account.js"
import { signatureMatches } from "../Twilio/Signature.js"
import { TransferCallbacks } from "./Callbacks.js"
import { TransfersRepo } from "./Repo.js"

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const MAX_PARAMS = 100

const text = (body: string, status: number) => HttpServerResponse.text(body, { status })
const twiml = (body: string) => HttpServerResponse.text(body, { contentType: "text/xml" })

/**
 * Twilio's callbacks of a transfer (not in the spec: URLs we give Twilio ourselves):
 * `POST /twilio/transfer-{result,answered,join}?tenant=&transfer=`. Each is signed by Twilio
 * with the tenant's auth token over PUBLIC_BASE_URL + path + query and the form, and checked
 * like the voice webhooks (401 otherwise); answers are TwiML.
 */
export const TransferRoutesLive = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function*() {
    const platform = yield* AppConfig
    const tenants = yield* TenantCache
    const repo = yield* TransfersRepo
    const callbacks = yield* TransferCallbacks

    const handle = (step: "result" | "answered" | "join") =>
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const query = new URL(request.originalUrl, "http://query.local").searchParams
        const tenantId = query.get("tenant")
        const transferId = query.get("transfer")
        if (tenantId === null || transferId === null || !UUID.test(transferId) || tenantId.length > 128) {
          return text("tenant and transfer (a UUID) query parameters are required", 400)
        }
        const form = yield* Effect.either(request.urlParamsBody)
        if (form._tag === "Left" || form.right.length > MAX_PARAMS) return text("expected a Twilio form body", 400)
        const params: Record<string, string | Array<string>> = {}
        for (const [name, value] of form.right) {
          const existing = params[name]
          params[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value]
        }
        const tenant = yield* tenants.get(tenantId)
        if (Option.isNone(tenant)) return text("Invalid Twilio signature", 401)
        const config = tenant.value.config
        const token = webhookAuthToken(config, platform)
        const signature = request.headers["x-twilio-signature"]
        if (Option.isNone(token) || !signatureMatches(token.value, `${platform.publicBaseUrl}${request.originalUrl}`, params, signature)) {
          return text("Invalid Twilio signature", 401)
        }
        const transfer = yield* repo.find(tenantId, transferId)
        if (transfer === undefined) return text("unknown transfer", 404)
        const single = Object.fromEntries(
          Object.entries(params).map(([name, value]) => [name, Array.isArray(value) ? value[0]! : value])
        )
        const body = step === "result"
          ? yield* callbacks.result(transfer, single)
          : step === "answered"
          ? yield* callbacks.answered(transfer)
          : yield* callbacks.join(transfer, config)
        return twiml(body)
      }).pipe(
        Effect.catchTags({
          DatabaseUnavailable: () => Effect.succeed(text("Service unavailable; try again shortly", 503)),
          InvalidInput: (error) => Effect.succeed(text(error.message, 400))
        }),
        Effect.withSpan(`twilio.transfer_${step}`)
      )

    yield* router.post("/twilio/transfer-result", handle("result"))
    yield* router.post("/twilio/transfer-answered", handle("answered"))
    yield* router.post("/twilio/transfer-join", handle("join"))
  })
)
