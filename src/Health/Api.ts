import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { TenantAuth } from "../Auth/Middleware.js"
import { AnyJson, NonNegativeInt, optionalNullable } from "../Http/Schemas.js"

export class ReadinessCheck extends Schema.Class<ReadinessCheck>("ReadinessCheck")({
  details: AnyJson,
  name: Schema.String,
  ready: Schema.Boolean,
  status: Schema.String
}) {}

export class ReadinessResponse extends Schema.Class<ReadinessResponse>("ReadinessResponse")({
  checks: Schema.Array(ReadinessCheck),
  ready: Schema.Boolean,
  status: Schema.String,
  timestamp: Schema.String,
  uptime_seconds: NonNegativeInt,
  version: Schema.String
}) {}

export class HealthResponse extends Schema.Class<HealthResponse>("HealthResponse")({
  activeSessions: NonNegativeInt,
  audioProviderFallback: Schema.Boolean,
  configuredAudioOutputProvider: Schema.String,
  effectiveAudioOutputProvider: Schema.String,
  elevenlabsConfigured: Schema.Boolean,
  elevenlabsReady: Schema.Boolean,
  ok: Schema.Boolean,
  org_id: optionalNullable(Schema.String),
  tenant: Schema.String,
  tools: NonNegativeInt,
  uptime: NonNegativeInt
}) {}

export class RootResponse extends Schema.Class<RootResponse>("RootResponse")({
  message: Schema.String,
  org_id: optionalNullable(Schema.String),
  tenant: Schema.String,
  timestamp: Schema.String,
  version: Schema.String
}) {}

/** The liveness body, on 200 and on 503 alike. */
export const LivenessStatus = Schema.Struct({
  ok: Schema.Boolean,
  status: Schema.Literal("alive", "stale"),
  heartbeat_age_ms: NonNegativeInt,
  stale_after_ms: NonNegativeInt
})

export class RuntimeStale extends Schema.TaggedError<RuntimeStale>()("RuntimeStale", { body: LivenessStatus }) {}

export class NotReady extends Schema.TaggedError<NotReady>()("NotReady", { body: ReadinessResponse }) {}

/** 503s whose body is the same document as the 200, not an error envelope. */
const sameShape = <Tag extends string, Body, BodyEncoded, Self extends { readonly body: Body }>(
  body: Schema.Schema<Body, BodyEncoded>,
  error: Schema.Schema<Self, { readonly _tag: Tag; readonly body: BodyEncoded }> & { readonly _tag: Tag }
) =>
  Schema.transform(body, error, {
    // The body travels through untouched: decoded by `body` on one side, by `error.body` on the other.
    strict: false,
    decode: (encoded) => ({ _tag: error._tag, body: encoded }),
    encode: (value) => value.body
  }).annotations(HttpApiSchema.annotations({ status: 503 }))

export class HealthApi extends HttpApiGroup.make("health")
  .add(
    HttpApiEndpoint.get("liveness", "/health/live")
      .addSuccess(LivenessStatus)
      .addError(sameShape(LivenessStatus, RuntimeStale))
      .annotate(OpenApi.Identifier, "liveness")
  )
  .add(
    HttpApiEndpoint.get("readiness", "/health/ready")
      .addSuccess(ReadinessResponse)
      .addError(sameShape(ReadinessResponse, NotReady))
      .annotate(OpenApi.Identifier, "readiness")
  )
  .add(
    HttpApiEndpoint.get("health", "/health")
      .addSuccess(HealthResponse)
      .middleware(TenantAuth)
      .annotate(OpenApi.Identifier, "health")
  )
  .add(
    HttpApiEndpoint.get("status", "/status")
      .addSuccess(RootResponse)
      .middleware(TenantAuth)
      .annotate(OpenApi.Identifier, "root")
  )
  .annotate(OpenApi.Title, "health")
{}
