import { Schema } from "effect"

const Bounded = (max: number) => Schema.String.pipe(Schema.minLength(1), Schema.maxLength(max))

export const Sentiments = ["positive", "neutral", "negative", "mixed"] as const
export const RiskLevels = ["low", "medium", "high"] as const

/** What the model must answer (validated: a reply that does not decode is a failed attempt). */
export class CallAnalysisResult extends Schema.Class<CallAnalysisResult>("CallAnalysisResult")({
  summary: Bounded(2000),
  sentiment: Schema.Literal(...Sentiments),
  primary_intent: Bounded(100),
  risk_level: Schema.Literal(...RiskLevels),
  evaluation: Schema.Struct({
    score: Schema.Number.pipe(Schema.between(0, 1)),
    tags: Schema.Array(Bounded(50)).pipe(Schema.maxItems(10)),
    notes: Schema.NullOr(Schema.String.pipe(Schema.maxLength(2000)))
  })
}) {}

/** The model's text is JSON of `CallAnalysisResult`. */
export const decodeAnalysisText = Schema.decodeUnknown(Schema.parseJson(CallAnalysisResult), { errors: "all" })

/**
 * The structured-output schema sent with the request (strict mode: every property required,
 * no others). Kept next to `CallAnalysisResult`, which is what the answer is checked against.
 */
export const analysisJsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["summary", "sentiment", "primary_intent", "risk_level", "evaluation"],
  properties: {
    summary: { type: "string", description: "Two or three sentences: what the caller wanted and what happened." },
    sentiment: { type: "string", enum: [...Sentiments], description: "The caller's overall sentiment." },
    primary_intent: { type: "string", description: "The caller's main intent as a short snake_case label, e.g. order_status." },
    risk_level: { type: "string", enum: [...RiskLevels], description: "Risk to the business or the caller (complaint, legal, churn, safety)." },
    evaluation: {
      type: "object",
      additionalProperties: false,
      required: ["score", "tags", "notes"],
      properties: {
        score: { type: "number", description: "How well the agent handled the call under the rubric, 0 to 1." },
        tags: { type: "array", items: { type: "string" }, description: "Up to 10 short labels, e.g. resolved, escalated." },
        notes: { type: ["string", "null"], description: "One or two sentences justifying the score." }
      }
    }
  }
} as const

/** The rubric used when the agent version gives none of its own. */
export const DEFAULT_RUBRIC = {
  criteria: [
    "understood what the caller wanted",
    "gave correct, relevant answers without inventing facts",
    "resolved the request or handed off appropriately",
    "was concise, polite and on-brand"
  ]
} as const

/** What one analysis reads: a finished call's session and the version that served it. */
export interface AnalysisInput {
  readonly tenantId: string
  readonly sessionId: string
  readonly transcript: ReadonlyArray<{ readonly role: string; readonly content: string }>
  readonly agentVersionId: string | null
  /** The version's own rubric (its instructions are what the agent was told to do), when it has one. */
  readonly agentInstructions: string | null
}
