import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { TenantAuth } from "../Auth/Middleware.js"

export class LogsStatsResponse extends Schema.Class<LogsStatsResponse>("LogsStatsResponse")({
  ok: Schema.Boolean,
  tenant: Schema.String,
  connectedClients: Schema.Int.pipe(Schema.nonNegative()),
  timestamp: Schema.String
}) {}

const LogsUpgrade = HttpApiSchema.Empty(101).annotations({ description: "WebSocket upgrade to stream logs/events" })

const plainText = (status: number, description: string) =>
  HttpApiSchema.Text().annotations(HttpApiSchema.annotations({ status, description }))

const DESCRIPTION = "Operational log endpoint for realtime debugging and log telemetry."

/** The tenant's live events over a WebSocket, and how many subscribers it has. */
export class LogsApi extends HttpApiGroup.make("logs")
  .add(
    HttpApiEndpoint.get("logsWs", "/api/v1/logs")
      .addSuccess(LogsUpgrade)
      .addError(plainText(400, "Missing WebSocket upgrade headers"))
      .addError(plainText(429, "Too many requests"))
      .annotate(OpenApi.Identifier, "logs_ws")
      .annotate(OpenApi.Summary, "Logs Ws")
      .annotate(OpenApi.Description, DESCRIPTION)
  )
  .add(
    HttpApiEndpoint.get("logsStats", "/api/v1/logs/stats")
      .addSuccess(LogsStatsResponse.annotations({ description: "Log stream stats" }))
      .annotate(OpenApi.Identifier, "logs_stats")
      .annotate(OpenApi.Summary, "Logs Stats")
      .annotate(OpenApi.Description, DESCRIPTION)
  )
  .middleware(TenantAuth)
  .annotate(OpenApi.Title, "logs")
{}
