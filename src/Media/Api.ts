import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpApiSecurity from "@effect/platform/HttpApiSecurity"
import * as OpenApi from "@effect/platform/OpenApi"
import { bearerAuth } from "../Auth/Middleware.js"

export const streamToken = HttpApiSecurity.apiKey({ key: "stream_token", in: "query" }).pipe(
  HttpApiSecurity.annotate(
    OpenApi.Description,
    "Short-lived media stream token used during Twilio Media Streams WebSocket setup."
  )
)

/**
 * Documents the credentials `/media-stream` reads. The handler checks them itself: a
 * token can also arrive after the upgrade, in the `start` event's custom parameters
 * (Twilio's `<Stream url>` carries no query string).
 */
export class MediaStreamCredentials extends HttpApiMiddleware.Tag<MediaStreamCredentials>()("MediaStreamCredentials", {
  optional: true,
  security: { stream_token: streamToken, bearer_auth: bearerAuth }
}) {}

const plainText = (status: number, description: string) =>
  HttpApiSchema.Text().annotations(HttpApiSchema.annotations({ status, description }))

export const SwitchingProtocols = HttpApiSchema.Empty(101).annotations({
  description: "WebSocket upgrade for Twilio Media Streams"
})

export class MediaApi extends HttpApiGroup.make("media", { topLevel: true })
  .add(
    HttpApiEndpoint.get("handler", "/media-stream")
      .addSuccess(SwitchingProtocols)
      .addError(plainText(400, "Missing WebSocket upgrade headers"))
      .addError(plainText(401, "Unauthorized"))
      .addError(plainText(429, "Too many pending bootstrap sessions"))
      .addError(plainText(503, "Service unavailable (the credential could not be checked)"))
      .middleware(MediaStreamCredentials)
      .annotate(OpenApi.Identifier, "handler")
      // HttpApi files its own JSON decode error under 400; this endpoint's 400 is plain text only.
      .annotate(OpenApi.Transform, (operation) => ({
        ...operation,
        responses: {
          ...operation.responses,
          400: {
            description: "Missing WebSocket upgrade headers",
            content: { "text/plain": { schema: { type: "string" } } }
          }
        }
      }))
      .annotate(OpenApi.Summary, "Handler")
      .annotate(
        OpenApi.Description,
        "WebSocket endpoint for Twilio Media Streams. Use a short-lived stream token during setup, or tenant bearer authentication for compatible internal clients."
      )
  )
  .annotate(OpenApi.Title, "media")
{}
