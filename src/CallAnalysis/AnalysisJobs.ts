import type { Statement } from "@effect/sql"
import { Effect, Option } from "effect"
import { AppConfig } from "../Config.js"
import type { StatementPart } from "../Database/StatementParts.js"
import { Ids } from "../Ids.js"
import type { CachedTenant } from "../TenantCache/TenantCache.js"
import { CallAnalysisConfig } from "./Config.js"
import { AnalysisJobsRepo } from "./Repo.js"

/** The channel on which a commit that enqueued a job wakes the analysis workers. */
export const ANALYSIS_CHANNEL = "call_analysis"

const WAKE_WORKERS = { channel: ANALYSIS_CHANNEL, payload: "job" } as const

/**
 * The enqueue side of post-call analysis, used by the call's record (CallRecords): whether a
 * tenant's calls are analysed, and the job written in the record's own transaction.
 */
export class AnalysisJobs extends Effect.Service<AnalysisJobs>()("AnalysisJobs", {
  effect: Effect.gen(function*() {
    const app = yield* AppConfig
    const config = yield* CallAnalysisConfig
    const repo = yield* AnalysisJobsRepo
    const ids = yield* Ids

    /**
     * No OPENAI_API_KEY, or the tenant turned it off (`call_analysis_enabled: false`): no job.
     * Plain code on the tenant the caller read (TenantCache), as is the rest: on every call's record.
     */
    const enabledFor = (tenant: Option.Option<CachedTenant>) =>
      Option.isSome(app.openaiApiKey) && Option.isSome(tenant) && tenant.value.config.call_analysis_enabled !== false

    /** When a held `voice.call.completed` goes out without the analysis (`now` by the service clock). */
    const holdUntil = (now: number) => new Date(now + config.maxWaitSeconds * 1000)

    /**
     * A part of the call's one-statement record: the job (due now), from `source`'s
     * `voice_session_id`, `call_log_id` and `outbox_id` (the held event); the NOTIFY that wakes a
     * worker commits with it.
     */
    const jobPart = (tenantId: string, now: number, source: Statement.Fragment): StatementPart => ({
      name: "analysis_job",
      statement: repo.insertFrom(ids.nextUuid(), tenantId, new Date(now), source),
      wakes: WAKE_WORKERS
    })

    return { enabledFor, holdUntil, jobPart } as const
  }),
  dependencies: [CallAnalysisConfig.Default, AnalysisJobsRepo.Default]
}) {}
