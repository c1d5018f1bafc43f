import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { TenantAuth } from "../Auth/Middleware.js"
import { ApiError } from "../Http/Errors.js"
import { OperatorQueue, OperatorQueueStats, UpsertOperatorQueueRequest } from "./Schemas.js"

/** The calling tenant's operator queues. */
export class OperatorQueuesApi extends HttpApiGroup.make("operatorQueues")
  .add(
    HttpApiEndpoint.get("list", "/api/v1/operator-queues")
      .addSuccess(Schema.Array(OperatorQueue))
      .annotate(OpenApi.Identifier, "list_operator_queues")
  )
  .add(
    HttpApiEndpoint.get("stats", "/api/v1/operator-queues/stats")
      .addSuccess(Schema.Array(OperatorQueueStats))
      .annotate(OpenApi.Identifier, "list_operator_queue_stats")
  )
  .add(
    HttpApiEndpoint.put("upsert", "/api/v1/operator-queues/:queue_key")
      .setPath(Schema.Struct({ queue_key: Schema.String.annotations({ description: "Operator queue key" }) }))
      .setPayload(UpsertOperatorQueueRequest)
      .addSuccess(OperatorQueue)
      .addError(ApiError.BadRequest)
      .annotate(OpenApi.Identifier, "upsert_operator_queue")
  )
  .addError(ApiError.Unavailable)
  .addError(ApiError.ServerError)
  .middleware(TenantAuth)
  .annotate(OpenApi.Title, "operations")
{}
