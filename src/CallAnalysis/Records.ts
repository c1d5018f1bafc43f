import * as SqlClient from "@effect/sql/SqlClient"
import type * as Statement from "@effect/sql/Statement"
import { Effect, Option } from "effect"
import { orRefused } from "../Database/Errors.js"
import { makeExecute } from "../Database/HotStatement.js"
import { composeParts, type StatementPart } from "../Database/StatementParts.js"
import { Ids } from "../Ids.js"
import { WebhookEvents, WebhookOutbox } from "../Outbox/WebhookOutbox.js"
import { EvalsRepo } from "../VoiceEvals/Repo.js"
import { rubricOf } from "./Analyzer.js"
import { CallAnalysisConfig } from "./Config.js"
import type { AnalysisInput, CallAnalysisResult } from "./Domain.js"
import { type ClaimedJob, AnalysisJobsRepo } from "./Repo.js"

/** The part every other part is guarded by: the job's result, written only while our lease holds. */
const JOB = "recorded_job"

/**
 * What an analysis attempt that ends the job writes, as one statement of data-modifying CTEs
 * (one round trip, no BEGIN/COMMIT/SAVEPOINT; as CallRecords writes a call): the job's result,
 * and only if that found our lease (so two replicas never write one call's analysis twice)
 * the summary and labels on the session, its outcome and its call log, the automatic
 * evaluation with its `voice.session.evaluated` event, and the release of the held
 * `voice.call.completed` event, with the NOTIFYs that wake the delivery workers.
 */
export class AnalysisRecords extends Effect.Service<AnalysisRecords>()("AnalysisRecords", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // One statement per finished analysis, on the worker's fiber: without the per-statement wrapping,
    // and prepared by name per shape (updates by key and insert-selects: one plan suits every call).
    const execute = (yield* makeExecute(sql)).prepared
    const config = yield* CallAnalysisConfig
    const jobs = yield* AnalysisJobsRepo
    const evals = yield* EvalsRepo
    const outbox = yield* WebhookOutbox
    const ids = yield* Ids
    const guard = sql`select 1 from ${sql(JOB)}`

    /** Runs `parts` after the job's part; true when the lease held (everything was written). */
    const run = (parts: ReadonlyArray<StatementPart>) => {
      const statement = composeParts(parts)
      return orRefused(execute(sql<{ recorded: boolean }>`${statement.with}
        select exists (${guard}) as recorded, ${statement.wakes} as notified`)).pipe(
        Effect.map((rows) => rows[0]?.recorded === true)
      )
    }

    /** The held `voice.call.completed` goes now, with `patch` in its data. */
    const release = (job: ClaimedJob, now: Date, patch: Record<string, unknown>) =>
      job.outbox_id === null ? [] : [outbox.releasePart("released_event", job.tenant_id, job.outbox_id, now, patch, guard)]

    const done = (job: ClaimedJob, token: string, now: Date, input: AnalysisInput, result: CallAnalysisResult) =>
      Effect.gen(function*() {
        const tenant = job.tenant_id
        const labelled = (table: string, set: Statement.Fragment, where: Statement.Fragment) =>
          sql`update ${sql(table)} set ${set}, updated_at = now() where tenant_id = ${tenant} and ${where} and exists (${guard})`
        const evaluated = yield* outbox.eventIds
        const event = yield* outbox.eventsPart(
          "evaluated_event",
          tenant,
          WebhookEvents.sessionEvaluated,
          now,
          null,
          // The fields VoiceSessionEvals announces a recorded evaluation with (`session_id` is the stream's).
          sql`select ${evaluated.rowId}::uuid as row_id, ${evaluated.msgId}::text as msg_id, jsonb_build_object(
              'eval_id', e.id, 'session_id', e.stream_id, 'stream_id', e.stream_id, 'call_log_id', e.call_log_id,
              'agent_version_id', e.agent_version_id, 'score', e.score, 'tags', to_jsonb(e.tags), 'source', e.source) as data
            from auto_eval e`
        )
        return yield* run([
          { name: JOB, statement: jobs.recordStatement(job, token, now, { _tag: "Done" }) },
          // What VoiceRecords.recordAnalysis and CallLogWrites.summarized wrote, each its own statement.
          {
            name: "analysed_session",
            statement: labelled(
              "voice_sessions",
              sql`summary = ${result.summary}, sentiment = ${result.sentiment}`,
              sql`id = ${job.voice_session_id}`
            )
          },
          {
            name: "classified_outcome",
            statement: labelled(
              "voice_outcomes",
              sql`primary_intent = ${result.primary_intent}, risk_level = ${result.risk_level}`,
              sql`voice_session_id = ${job.voice_session_id}`
            )
          },
          ...(job.call_log_id === null ? [] : [{
            name: "summarized_log",
            statement: labelled("call_logs", sql`summary = ${result.summary}`, sql`id = ${job.call_log_id}`)
          }]),
          // One evaluation per session: a person's is never replaced, even one committed while this runs.
          {
            name: "auto_eval",
            statement: evals.autoEvalFrom({
              id: yield* ids.uuid,
              tenantId: tenant,
              voiceSessionId: job.voice_session_id,
              score: result.evaluation.score,
              tags: result.evaluation.tags,
              notes: result.evaluation.notes,
              rubric: rubricOf(input),
              metadata: {
                model: config.model,
                sentiment: result.sentiment,
                primary_intent: result.primary_intent,
                risk_level: result.risk_level
              }
            }, guard)
          },
          ...Option.toArray(event),
          ...release(job, now, { summary: result.summary })
        ])
      })

    /** The last attempt failed (or the session is gone): the job is failed and the held event goes now, `summary: null`. */
    const failed = (job: ClaimedJob, token: string, now: Date, error: string) =>
      run([
        { name: JOB, statement: jobs.recordStatement(job, token, now, { _tag: "Failed", error }) },
        ...release(job, now, {})
      ])

    return { done, failed } as const
  }),
  dependencies: [CallAnalysisConfig.Default, AnalysisJobsRepo.Default, EvalsRepo.Default, WebhookOutbox.Default]
}) {}
