import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { TenantIdPath } from "../Agents/Api.js"
import { AdminAuth } from "../Auth/Middleware.js"
import { AdminError } from "../Http/Errors.js"
import { NonNegativeInt, Uuid } from "../Http/Schemas.js"

export class StartTestCallRequest extends Schema.Class<StartTestCallRequest>("StartTestCallRequest")({
  agent_version_id: Uuid.annotations({ description: "The agent version to talk to" })
}) {}

export class StartTestCallResponse extends Schema.Class<StartTestCallResponse>("StartTestCallResponse")({
  ok: Schema.Boolean,
  /** Where the browser opens its Media Streams WebSocket. */
  stream_url: Schema.String,
  /** Single-use, short-lived: sent in the `start` event's `customParameters.stream_token`. */
  stream_token: Schema.String,
  stream_sid: Schema.String,
  call_sid: Schema.String,
  expires_in_seconds: NonNegativeInt
}) {}

/**
 * Test calls from the web console: the browser speaks the Media Streams protocol itself, so a
 * tenant's agent can be tried without a phone number (not in the published spec; see
 * docs/spec-deviations.md).
 */
export class ConsoleApi extends HttpApiGroup.make("console")
  .add(
    HttpApiEndpoint.post("startTestCall", "/api/v1/admin/tenants/:tenant_id/test-calls")
      .setPath(TenantIdPath)
      .setPayload(StartTestCallRequest)
      .addSuccess(StartTestCallResponse, { status: 201 })
      .addError(AdminError.BadRequest)
      .addError(AdminError.NotFound)
      .annotate(OpenApi.Identifier, "start_console_test_call")
      .annotate(OpenApi.Description, "Issues a stream token for a browser test call to an agent version (recorded as an inbound call from `console:<actor>`; the call-logs filter `direction=web` lists these calls).")
  )
  .addError(AdminError.Unavailable)
  .middleware(AdminAuth)
  .annotate(OpenApi.Title, "admin")
{}
