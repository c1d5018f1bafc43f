import { Schema } from "effect"

/** One analysis attempt failed (the API refused or timed out, or its answer did not validate); retried. */
export class AnalysisFailed extends Schema.TaggedError<AnalysisFailed>()("AnalysisFailed", {
  message: Schema.String
}) {}
