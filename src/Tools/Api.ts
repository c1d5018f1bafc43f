import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { TenantAuth } from "../Auth/Middleware.js"
import { ApiError } from "../Http/Errors.js"
import { AnyJson, JsonDocument, NonNegativeInt, optionalNullable, Text } from "../Http/Schemas.js"

export class ToolDefinition extends Schema.Class<ToolDefinition>("ToolDefinition")({
  description: Schema.String,
  name: Schema.String,
  parameters: AnyJson,
  type: Schema.String
}) {}

export class ToolEntry extends Schema.Class<ToolEntry>("ToolEntry")({
  definition: ToolDefinition,
  name: Schema.String
}) {}

export class ToolsResponse extends Schema.Class<ToolsResponse>("ToolsResponse")({
  count: NonNegativeInt,
  tools: Schema.Array(ToolEntry)
}) {}

export class FunctionContextInput extends Schema.Class<FunctionContextInput>("FunctionContextInput")({
  agent_name: optionalNullable(Schema.String),
  authenticated: Schema.optional(Schema.Boolean),
  customer_id: optionalNullable(Schema.String),
  customer_phone: optionalNullable(Schema.String),
  org_id: optionalNullable(Schema.String),
  session_id: optionalNullable(Schema.String).annotations({
    description: "The live call to act on: its stream SID or Twilio call SID"
  })
}) {}

export class FunctionTestRequest extends Schema.Class<FunctionTestRequest>("FunctionTestRequest")({
  args: JsonDocument(65_536),
  context: optionalNullable(FunctionContextInput),
  name: Text.Id
}) {}

export class FunctionTestResponse extends Schema.Class<FunctionTestResponse>("FunctionTestResponse")({
  error: optionalNullable(Schema.String),
  ok: Schema.Boolean,
  result: Schema.optional(AnyJson)
}) {}

/** A tool run that failed: the spec answers it as a 500 `FunctionTestResponse`. */
export class FunctionTestFailed extends Schema.TaggedError<FunctionTestFailed>()("FunctionTestFailed", {
  message: Schema.String
}) {}

const FunctionTestError = Schema.transform(FunctionTestResponse, FunctionTestFailed, {
  strict: true,
  decode: (body) => ({ _tag: "FunctionTestFailed" as const, message: body.error ?? "" }),
  encode: (value) => new FunctionTestResponse({ ok: false, error: value.message })
}).annotations(HttpApiSchema.annotations({ status: 500 }))

/** The tools the tenant's agent can call, and a way to run one outside a call. */
export class FunctionRegistryApi extends HttpApiGroup.make("functionRegistry")
  .add(
    HttpApiEndpoint.get("tools", "/tools")
      .addSuccess(ToolsResponse)
      .annotate(OpenApi.Identifier, "tools")
  )
  .add(
    HttpApiEndpoint.post("testFunction", "/test-function")
      .setPayload(FunctionTestRequest)
      .addSuccess(FunctionTestResponse)
      .addError(ApiError.BadRequest)
      .addError(FunctionTestError)
      .annotate(OpenApi.Identifier, "test_function")
  )
  .middleware(TenantAuth)
  .annotate(OpenApi.Title, "automation")
{}
