import { Duration, Effect, Option, ParseResult, Redacted } from "effect"
import { AppConfig } from "../Config.js"
import { CallAnalysisConfig } from "./Config.js"
import { type AnalysisInput, analysisJsonSchema, decodeAnalysisText, DEFAULT_RUBRIC } from "./Domain.js"
import { AnalysisFailed } from "./Errors.js"
import { makeResponsesClient } from "./ResponsesClient.js"

/** The model reads at most this much of a transcript (its start and its end: how a call opened and closed). */
const MAX_TRANSCRIPT_CHARS = 24_000

export const transcriptText = (transcript: AnalysisInput["transcript"]): string => {
  const text = transcript.map((turn) => `${turn.role === "assistant" ? "Agent" : "Caller"}: ${turn.content}`).join("\n")
  if (text.length <= MAX_TRANSCRIPT_CHARS) return text
  const half = MAX_TRANSCRIPT_CHARS / 2
  return `${text.slice(0, half)}\n[... ${text.length - MAX_TRANSCRIPT_CHARS} characters left out ...]\n${text.slice(-half)}`
}

/** The rubric stored with the automatic evaluation: the version's instructions when it has them. */
export const rubricOf = (input: AnalysisInput) =>
  input.agentInstructions === null
    ? { ...DEFAULT_RUBRIC, source: "default" }
    : { ...DEFAULT_RUBRIC, source: "agent_version", agent_version_id: input.agentVersionId, agent_instructions: input.agentInstructions.slice(0, 4000) }

const instructionsFor = (input: AnalysisInput) =>
  [
    "You review finished phone calls between a caller and an AI voice agent.",
    "Answer with the JSON the schema describes: a short factual summary, the caller's sentiment,",
    "their primary intent, the risk level, and an evaluation of the agent scored from 0 to 1.",
    `Score the agent against these criteria: ${DEFAULT_RUBRIC.criteria.join("; ")}.`,
    input.agentInstructions === null
      ? ""
      : `The agent was instructed as follows; judge whether it followed these instructions:\n${input.agentInstructions.slice(0, 4000)}`
  ].filter((line) => line !== "").join("\n")

/**
 * The OpenAI Responses API with structured output (json_schema) at OPENAI_BASE_URL, through a
 * plain HTTP client (ResponsesClient.ts). Retries are the job's (with backoff, in data), never the client's.
 */
export class Analyzer extends Effect.Service<Analyzer>()("Analyzer", {
  scoped: Effect.gen(function*() {
    const app = yield* AppConfig
    const config = yield* CallAnalysisConfig
    const client = yield* Option.match(app.openaiApiKey, {
      onNone: () => Effect.succeed(Option.none<ReturnType<typeof makeResponsesClient>>()),
      onSome: (key) =>
        Effect.acquireRelease(
          Effect.sync(() =>
            makeResponsesClient({
              baseUrl: app.openaiBaseUrl,
              apiKey: Redacted.value(key),
              organization: Option.getOrUndefined(config.organization),
              project: Option.getOrUndefined(config.project)
            })
          ),
          (client) => Effect.sync(client.close)
        ).pipe(Effect.map(Option.some))
    })

    const analyze = Effect.fn("Analyzer.analyze")(function*(input: AnalysisInput) {
      if (Option.isNone(client)) return yield* new AnalysisFailed({ message: "OPENAI_API_KEY is not set" })
      const text = yield* client.value.create({
        model: config.model,
        instructions: instructionsFor(input),
        input: transcriptText(input.transcript) || "(the caller and the agent said nothing)",
        text: { format: { type: "json_schema", name: "call_analysis", strict: true, schema: analysisJsonSchema } },
        store: false
      }).pipe(
        Effect.timeoutFail({
          duration: Duration.seconds(config.requestTimeoutSeconds),
          onTimeout: () => new AnalysisFailed({ message: `no answer within ${config.requestTimeoutSeconds} s` })
        })
      )
      return yield* decodeAnalysisText(text).pipe(
        Effect.mapError((error) =>
          new AnalysisFailed({ message: `the answer did not validate: ${ParseResult.TreeFormatter.formatErrorSync(error).slice(0, 500)}` })
        )
      )
    })

    return { analyze, configured: Option.isSome(client) } as const
  }),
  dependencies: [CallAnalysisConfig.Default]
}) {}
