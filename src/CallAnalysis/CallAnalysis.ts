import { SqlClient } from "@effect/sql"
import { Clock, Effect, Option, Random } from "effect"
import { VersionResolution } from "../Agents/VersionResolution.js"
import { CallLogWrites } from "../CallLogs/Writes.js"
import { orUnavailable } from "../Database/Errors.js"
import { forEachClaimed } from "../Database/Leases.js"
import { Ids } from "../Ids.js"
import { WebhookOutbox } from "../Outbox/WebhookOutbox.js"
import { VoiceSessionEvals } from "../VoiceEvals/VoiceSessionEvals.js"
import { VoiceRecords } from "../VoiceSessions/VoiceRecords.js"
import { Analyzer, rubricOf } from "./Analyzer.js"
import { CallAnalysisConfig } from "./Config.js"
import type { AnalysisInput, CallAnalysisResult } from "./Domain.js"
import { type ClaimedJob, AnalysisJobsRepo } from "./Repo.js"

/** What one pass did. */
export interface AnalysisPass {
  readonly attempted: number
  readonly done: number
  readonly retried: number
  readonly failed: number
}

/** Milliseconds before attempt `attempts + 1`: base, doubling, plus up to 10% jitter. */
export const retryDelayMs = (attempts: number, baseMs: number, random: number) =>
  Math.round(baseMs * 2 ** Math.max(0, attempts - 1) * (1 + random / 10))

/**
 * Post-call analysis: claims due jobs, asks the Responses API for the summary, labels and an
 * automatic evaluation, and writes them with the evaluation's `voice.session.evaluated`
 * event and the release of the held `voice.call.completed` event in one transaction (only
 * while the job's lease holds, so two replicas never write one call's analysis twice).
 */
export class CallAnalysis extends Effect.Service<CallAnalysis>()("CallAnalysis", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const config = yield* CallAnalysisConfig
    const repo = yield* AnalysisJobsRepo
    const analyzer = yield* Analyzer
    const records = yield* VoiceRecords
    const evals = yield* VoiceSessionEvals
    const callLogs = yield* CallLogWrites
    const outbox = yield* WebhookOutbox
    const versions = yield* VersionResolution
    const ids = yield* Ids

    const inputOf = (job: ClaimedJob) =>
      Effect.gen(function*() {
        const session = yield* records.analysisInput(job.tenant_id, job.voice_session_id)
        if (Option.isNone(session)) return Option.none<AnalysisInput>()
        const version = session.value.agentVersionId === null
          ? Option.none()
          : yield* versions.byId(job.tenant_id, session.value.agentVersionId)
        return Option.some<AnalysisInput>({
          tenantId: job.tenant_id,
          sessionId: job.voice_session_id,
          ...session.value,
          agentInstructions: Option.match(version, { onNone: () => null, onSome: (v) => v.config.instructions })
        })
      })

    /** Everything the analysis writes, or nothing when the lease was lost. */
    const writeResult = (job: ClaimedJob, token: string, input: AnalysisInput, result: CallAnalysisResult) =>
      orUnavailable(sql.withTransaction(Effect.gen(function*() {
        const now = new Date(yield* Clock.currentTimeMillis)
        if (!(yield* repo.record(job, token, now, { _tag: "Done" }))) return false
        yield* records.recordAnalysis(job.tenant_id, job.voice_session_id, {
          summary: result.summary,
          sentiment: result.sentiment,
          primaryIntent: result.primary_intent,
          riskLevel: result.risk_level
        })
        if (job.call_log_id !== null) yield* callLogs.summarized(job.tenant_id, job.call_log_id, result.summary)
        // One evaluation per session: a person's is never replaced, even one committed while this runs
        // (the write itself checks, in one statement).
        yield* evals.recordAutomatic(job.tenant_id, {
          session_id: job.voice_session_id,
          score: result.evaluation.score,
          tags: result.evaluation.tags,
          notes: result.evaluation.notes,
          rubric: rubricOf(input),
          source: "auto",
          metadata: {
            model: config.model,
            sentiment: result.sentiment,
            primary_intent: result.primary_intent,
            risk_level: result.risk_level
          }
        })
        if (job.outbox_id !== null) yield* outbox.release(job.tenant_id, job.outbox_id, { summary: result.summary })
        return true
      })))

    /** The last attempt failed: the job is failed and the held event goes now, `summary: null`. */
    const writeFailure = (job: ClaimedJob, token: string, error: string) =>
      orUnavailable(sql.withTransaction(Effect.gen(function*() {
        const now = new Date(yield* Clock.currentTimeMillis)
        if (!(yield* repo.record(job, token, now, { _tag: "Failed", error }))) return false
        if (job.outbox_id !== null) yield* outbox.release(job.tenant_id, job.outbox_id, {})
        return true
      })))

    const analyseOne = (job: ClaimedJob, token: string) =>
      Effect.gen(function*() {
        const input = yield* inputOf(job)
        if (Option.isNone(input)) {
          yield* writeFailure(job, token, "the voice session no longer exists")
          return "failed" as const
        }
        const outcome = yield* Effect.either(analyzer.analyze(input.value))
        if (outcome._tag === "Right") {
          return (yield* writeResult(job, token, input.value, outcome.right)) ? "done" as const : "lost" as const
        }
        const error = outcome.left.message
        const attempts = job.attempts + 1
        yield* Effect.logWarning("post-call analysis attempt failed").pipe(
          Effect.annotateLogs({ tenant_id: job.tenant_id, job_id: job.id, attempt: attempts, error })
        )
        if (attempts >= config.maxAttempts) {
          return (yield* writeFailure(job, token, error)) ? "failed" as const : "lost" as const
        }
        const now = yield* Clock.currentTimeMillis
        const nextAttemptAt = new Date(now + retryDelayMs(attempts, config.retryBaseMs, yield* Random.next))
        return (yield* repo.record(job, token, new Date(now), { _tag: "Retry", nextAttemptAt, error })) ? "retried" as const : "lost" as const
      }).pipe(
        // A write that failed (database down) leaves the lease to expire: the job is tried again then.
        Effect.catchAll((error) =>
          Effect.as(Effect.logWarning("post-call analysis not recorded").pipe(Effect.annotateLogs({ job_id: job.id, error: error.message })), "lost" as const)
        ),
        Effect.withSpan("CallAnalysis.analyse", { attributes: { tenant_id: job.tenant_id, "analysis.attempt": job.attempts + 1 } })
      )

    /** Claims up to `limit` due jobs and analyses them. */
    const runDue = Effect.fn("CallAnalysis.runDue")(function*(limit: number) {
      const results = yield* forEachClaimed({
        ids,
        repo,
        limit,
        leaseSeconds: config.leaseSeconds,
        concurrency: "unbounded",
        each: analyseOne
      })
      const pass: AnalysisPass = {
        attempted: results.length,
        done: results.filter((r) => r === "done").length,
        retried: results.filter((r) => r === "retried").length,
        failed: results.filter((r) => r === "failed").length
      }
      return pass
    })

    return { runDue } as const
  }),
  dependencies: [CallAnalysisConfig.Default, AnalysisJobsRepo.Default, Analyzer.Default, CallLogWrites.Default, WebhookOutbox.Default]
}) {}
