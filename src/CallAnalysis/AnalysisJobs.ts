import { Clock, Effect, Option } from "effect"
import { AppConfig } from "../Config.js"
import { Notifications } from "../Database/Notifications.js"
import { Ids } from "../Ids.js"
import { TenantCache } from "../TenantCache/TenantCache.js"
import { CallAnalysisConfig } from "./Config.js"
import { AnalysisJobsRepo } from "./Repo.js"

/** The channel on which a commit that enqueued a job wakes the analysis workers. */
export const ANALYSIS_CHANNEL = "call_analysis"

/**
 * The enqueue side of post-call analysis, used by the call's record (CallRecords): whether a
 * tenant's calls are analysed, and the job written in the record's own transaction.
 */
export class AnalysisJobs extends Effect.Service<AnalysisJobs>()("AnalysisJobs", {
  effect: Effect.gen(function*() {
    const app = yield* AppConfig
    const config = yield* CallAnalysisConfig
    const repo = yield* AnalysisJobsRepo
    const tenants = yield* TenantCache
    const ids = yield* Ids
    const notifications = yield* Notifications

    /** No OPENAI_API_KEY, or the tenant turned it off (`call_analysis_enabled: false`): no job. */
    const enabledFor = (tenantId: string) =>
      Option.isNone(app.openaiApiKey)
        ? Effect.succeed(false)
        : Effect.map(tenants.get(tenantId), (tenant) => Option.isSome(tenant) && tenant.value.config.call_analysis_enabled !== false)

    /** When a held `voice.call.completed` goes out without the analysis. */
    const holdUntil = Effect.map(Clock.currentTimeMillis, (now) => new Date(now + config.maxWaitSeconds * 1000))

    /** Inside the record's transaction: the job (due now) and the NOTIFY that wakes a worker commit with it. */
    const enqueue = (job: { tenantId: string; voiceSessionId: string; callLogId: string | null; outboxId: string | null }) =>
      Effect.gen(function*() {
        const now = new Date(yield* Clock.currentTimeMillis)
        yield* repo.insert({ id: yield* ids.uuid, ...job, dueAt: now })
        yield* notifications.notify(ANALYSIS_CHANNEL, "job")
      })

    return { enabledFor, holdUntil, enqueue } as const
  }),
  dependencies: [CallAnalysisConfig.Default, AnalysisJobsRepo.Default]
}) {}
