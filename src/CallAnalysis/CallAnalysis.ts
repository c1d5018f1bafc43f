import { Clock, Effect, Option, Random } from "effect"
import { VersionResolution } from "../Agents/VersionResolution.js"
import { forEachClaimed } from "../Database/Leases.js"
import { Ids } from "../Ids.js"
import { Analyzer } from "./Analyzer.js"
import { CallAnalysisConfig } from "./Config.js"
import type { AnalysisInput } from "./Domain.js"
import { AnalysisRecords } from "./Records.js"
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

/** The turns of a session's stored transcript the model reads (anything malformed is left out). */
const turnsOf = (transcript: unknown): AnalysisInput["transcript"] =>
  Array.isArray(transcript)
    ? transcript.flatMap((turn: unknown) =>
      typeof turn === "object" && turn !== null && "content" in turn && typeof turn.content === "string"
        ? [{ role: "role" in turn && typeof turn.role === "string" ? turn.role : "user", content: turn.content }]
        : []
    )
    : []

/**
 * Post-call analysis: claims due jobs (reading their sessions in the same statement), asks the
 * Responses API for the summary, labels and an automatic evaluation, and writes them with the
 * evaluation's `voice.session.evaluated` event and the release of the held
 * `voice.call.completed` event in one statement (Records.ts), only while the job's lease
 * holds, so two replicas never write one call's analysis twice.
 */
export class CallAnalysis extends Effect.Service<CallAnalysis>()("CallAnalysis", {
  effect: Effect.gen(function*() {
    const config = yield* CallAnalysisConfig
    const repo = yield* AnalysisJobsRepo
    const analyzer = yield* Analyzer
    const records = yield* AnalysisRecords
    const versions = yield* VersionResolution
    const ids = yield* Ids

    const inputOf = (job: ClaimedJob) =>
      Effect.gen(function*() {
        if (!job.session_found) return Option.none<AnalysisInput>()
        // Versions are cached (VersionResolution): no statement for a version a call used recently.
        const version = job.agent_version_id === null
          ? Option.none()
          : yield* versions.byId(job.tenant_id, job.agent_version_id)
        return Option.some<AnalysisInput>({
          tenantId: job.tenant_id,
          sessionId: job.voice_session_id,
          transcript: turnsOf(job.transcript),
          agentVersionId: job.agent_version_id,
          agentInstructions: Option.match(version, { onNone: () => null, onSome: (v) => v.config.instructions })
        })
      })

    const now = Effect.map(Clock.currentTimeMillis, (millis) => new Date(millis))

    const analyseOne = (job: ClaimedJob, token: string) =>
      Effect.gen(function*() {
        const input = yield* inputOf(job)
        if (Option.isNone(input)) {
          return (yield* records.failed(job, token, yield* now, "the voice session no longer exists")) ? "failed" as const : "lost" as const
        }
        const outcome = yield* Effect.either(analyzer.analyze(input.value))
        if (outcome._tag === "Right") {
          return (yield* records.done(job, token, yield* now, input.value, outcome.right)) ? "done" as const : "lost" as const
        }
        const error = outcome.left.message
        const attempts = job.attempts + 1
        yield* Effect.logWarning("post-call analysis attempt failed").pipe(
          Effect.annotateLogs({ tenant_id: job.tenant_id, job_id: job.id, attempt: attempts, error })
        )
        if (attempts >= config.maxAttempts) {
          return (yield* records.failed(job, token, yield* now, error)) ? "failed" as const : "lost" as const
        }
        const at = yield* Clock.currentTimeMillis
        const nextAttemptAt = new Date(at + retryDelayMs(attempts, config.retryBaseMs, yield* Random.next))
        return (yield* repo.record(job, token, new Date(at), { _tag: "Retry", nextAttemptAt, error })) ? "retried" as const : "lost" as const
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
  dependencies: [CallAnalysisConfig.Default, AnalysisJobsRepo.Default, Analyzer.Default, AnalysisRecords.Default]
}) {}
