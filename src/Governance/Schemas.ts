import { Schema } from "effect"
import { Int, NonNegativeInt, optionalNullable, Timestamp, Uuid } from "../Http/Schemas.js"

export class RolloutGovernancePolicy extends Schema.Class<RolloutGovernancePolicy>("RolloutGovernancePolicy")({
  agent_id: Uuid,
  created_at: Timestamp,
  enabled: Schema.Boolean,
  lookback_hours: Int,
  min_avg_score: Schema.Number,
  min_eval_count: Int,
  min_high_quality_rate: optionalNullable(Schema.Number),
  tenant_id: Schema.String,
  updated_at: Timestamp
}) {}

const Fraction = (name: string) =>
  Schema.Number.pipe(
    Schema.filter((n) => Number.isFinite(n) && n >= 0 && n <= 1, { message: () => `${name} must be between 0 and 1` })
  ).annotations({ jsonSchema: { type: "number", format: "double" } })

const IntBetween = (name: string, min: number, max: number) =>
  Int.pipe(Schema.between(min, max, { message: () => `${name} must be an integer from ${min} to ${max}` }))
    .annotations({ jsonSchema: { type: "integer", format: "int32" } })

export class UpsertRolloutGovernancePolicy extends Schema.Class<UpsertRolloutGovernancePolicy>("UpsertRolloutGovernancePolicy")({
  enabled: Schema.Boolean,
  lookback_hours: IntBetween("lookback_hours", 1, 8760),
  min_avg_score: Fraction("min_avg_score"),
  min_eval_count: IntBetween("min_eval_count", 1, 1_000_000),
  min_high_quality_rate: optionalNullable(Fraction("min_high_quality_rate"))
}) {}

export class AdminRolloutGovernancePolicyResponse extends Schema.Class<AdminRolloutGovernancePolicyResponse>("AdminRolloutGovernancePolicyResponse")({
  ok: Schema.Boolean,
  policy: optionalNullable(RolloutGovernancePolicy)
}) {}

export class EvaluateRolloutGovernanceRequest extends Schema.Class<EvaluateRolloutGovernanceRequest>("EvaluateRolloutGovernanceRequest")({
  apply: Schema.optional(Schema.Boolean)
}) {}

export class AgentVersionEvalStats extends Schema.Class<AgentVersionEvalStats>("AgentVersionEvalStats")({
  agent_key: Schema.String,
  agent_name: Schema.String,
  agent_version_id: Uuid,
  avg_score: optionalNullable(Schema.Number),
  eval_count: NonNegativeInt,
  high_quality_rate: optionalNullable(Schema.Number),
  last_eval_at: optionalNullable(Timestamp),
  version_number: Int
}) {}

export class RolloutGovernanceVersionEvaluation extends Schema.Class<RolloutGovernanceVersionEvaluation>("RolloutGovernanceVersionEvaluation")({
  agent_version_id: Uuid,
  avg_score: optionalNullable(Schema.Number),
  eval_count: NonNegativeInt,
  high_quality_rate: optionalNullable(Schema.Number),
  last_eval_at: optionalNullable(Timestamp),
  reasons: Schema.optional(Schema.Array(Schema.String)),
  status: Schema.String,
  traffic_percentage: optionalNullable(Int),
  version_number: Int
}) {}

export class RolloutGovernanceEvaluation extends Schema.Class<RolloutGovernanceEvaluation>("RolloutGovernanceEvaluation")({
  agent_id: Uuid,
  agent_key: Schema.String,
  agent_name: Schema.String,
  applied: Schema.Boolean,
  policy: optionalNullable(RolloutGovernancePolicy),
  published_version: optionalNullable(AgentVersionEvalStats),
  reasons: Schema.optional(Schema.Array(Schema.String)),
  rollout_versions: Schema.optional(Schema.Array(RolloutGovernanceVersionEvaluation)),
  status: Schema.String
}) {}

export class AdminRolloutGovernanceEvaluationResponse extends Schema.Class<AdminRolloutGovernanceEvaluationResponse>("AdminRolloutGovernanceEvaluationResponse")({
  evaluation: RolloutGovernanceEvaluation,
  ok: Schema.Boolean
}) {}

export class RolloutGovernanceSweepRequest extends Schema.Class<RolloutGovernanceSweepRequest>("RolloutGovernanceSweepRequest")({
  apply: Schema.optional(Schema.Boolean),
  auth_token: optionalNullable(Schema.String),
  limit: optionalNullable(
    Int.pipe(Schema.between(1, 10_000, { message: () => "limit must be an integer from 1 to 10000" }))
      .annotations({ jsonSchema: { type: "integer", format: "int64" } })
  )
}) {}

export class RolloutGovernanceSweepFailure extends Schema.Class<RolloutGovernanceSweepFailure>("RolloutGovernanceSweepFailure")({
  agent_id: optionalNullable(Uuid),
  auth_token: Schema.String,
  error: Schema.String
}) {}

export class RolloutGovernanceSweepItem extends Schema.Class<RolloutGovernanceSweepItem>("RolloutGovernanceSweepItem")({
  auth_token: Schema.String,
  evaluation: RolloutGovernanceEvaluation,
  tenant_id: Schema.String
}) {}

export class RolloutGovernanceSweepResult extends Schema.Class<RolloutGovernanceSweepResult>("RolloutGovernanceSweepResult")({
  attempted_agents: NonNegativeInt,
  attempted_tenants: NonNegativeInt,
  evaluated_agents: NonNegativeInt,
  evaluated_tenants: NonNegativeInt,
  failures: Schema.optional(Schema.Array(RolloutGovernanceSweepFailure)),
  items: Schema.optional(Schema.Array(RolloutGovernanceSweepItem)),
  rollback_recommended: NonNegativeInt,
  rollbacks_applied: NonNegativeInt
}) {}

export class AdminRolloutGovernanceSweepResponse extends Schema.Class<AdminRolloutGovernanceSweepResponse>("AdminRolloutGovernanceSweepResponse")({
  ok: Schema.Boolean,
  result: RolloutGovernanceSweepResult
}) {}
