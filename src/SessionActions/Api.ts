import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { TenantAuth } from "../Auth/Middleware.js"
import { SessionActionError } from "./Errors.js"
import { SessionActionBody, SessionActionResponse } from "./Schemas.js"

/** Supervisor control of a tenant's live call, wherever it runs. */
export class SessionActionsApi extends HttpApiGroup.make("sessionActions")
  .add(
    HttpApiEndpoint.post("perform", "/api/v1/sessions/:stream_sid/actions/:action")
      .setPath(Schema.Struct({
        stream_sid: Schema.String.annotations({ description: "Twilio stream SID" }),
        action: Schema.String.annotations({ description: "Action to perform (monitor, whisper, barge, escalate, end)" })
      }))
      .setPayload(SessionActionBody)
      .addSuccess(SessionActionResponse)
      .addError(SessionActionError.BadRequest)
      .addError(SessionActionError.NotFound)
      .addError(SessionActionError.Conflict)
      .addError(SessionActionError.Unavailable)
      .annotate(OpenApi.Identifier, "session_action")
  )
  .middleware(TenantAuth)
  .annotate(OpenApi.Title, "sessions")
{}
