import { Schema } from "effect"
import { NonNegativeInt } from "../Http/Schemas.js"

const Int64 = Schema.Number.pipe(Schema.int()).annotations({ jsonSchema: { type: "integer", format: "int64" } })

export class AdminBillingOutcomeOutboxSweepResponse
  extends Schema.Class<AdminBillingOutcomeOutboxSweepResponse>("AdminBillingOutcomeOutboxSweepResponse")({
    ok: Schema.Boolean,
    attempted: NonNegativeInt,
    delivered: NonNegativeInt,
    rescheduled: NonNegativeInt,
    failed: NonNegativeInt
  })
{}

export class OutboxDepthSnapshot extends Schema.Class<OutboxDepthSnapshot>("OutboxDepthSnapshot")({
  table: Schema.String,
  pending: Int64,
  delivered: Int64,
  failed: Int64
}, { description: "Current depth snapshot for one tracked outbox table." }) {}

export class AdminOutboxDepthResponse extends Schema.Class<AdminOutboxDepthResponse>("AdminOutboxDepthResponse")({
  ok: Schema.Boolean,
  count: NonNegativeInt,
  depths: Schema.Array(OutboxDepthSnapshot)
}) {}
