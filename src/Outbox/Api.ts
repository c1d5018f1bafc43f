import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { AdminAuth } from "../Auth/Middleware.js"
import { AdminError } from "../Http/Errors.js"
import { LimitParam } from "../Http/Schemas.js"
import { AdminBillingOutcomeOutboxSweepResponse, AdminOutboxDepthResponse } from "./Schemas.js"

/** Outbox diagnostics and the billing outcome delivery sweep (admin). */
export class OutboxesApi extends HttpApiGroup.make("outboxes")
  .add(
    HttpApiEndpoint.get("depth", "/api/v1/admin/outboxes/depth")
      .addSuccess(AdminOutboxDepthResponse)
      .annotate(OpenApi.Identifier, "get_outbox_depth_diagnostics")
  )
  .add(
    HttpApiEndpoint.post("sweepBilling", "/api/v1/admin/outboxes/billing-outcomes/sweep")
      .setUrlParams(Schema.Struct({
        limit: Schema.optional(LimitParam(1000)).annotations({ description: "Maximum due rows to claim and deliver in this sweep." })
      }))
      .addSuccess(AdminBillingOutcomeOutboxSweepResponse)
      .addError(AdminError.BadRequest)
      .annotate(OpenApi.Identifier, "sweep_billing_outcome_outbox_admin")
  )
  .addError(AdminError.Unavailable)
  .middleware(AdminAuth)
  .annotate(OpenApi.Title, "admin")
{}
