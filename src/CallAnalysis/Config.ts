import { Config, Effect } from "effect"
import { atLeast } from "../ConfigIntegers.js"

/** Settings of post-call analysis (docs/call-analysis.md); the key and base URL are AppConfig's OPENAI_*. */
export class CallAnalysisConfig extends Effect.Service<CallAnalysisConfig>()("CallAnalysisConfig", {
  effect: Effect.gen(function*() {
    return {
      /** The Responses API model that writes the summary and the automatic evaluation. */
      model: yield* Config.string("OPENAI_ANALYSIS_MODEL").pipe(
        Config.withDefault("gpt-4.1-mini"),
        Config.validate({ message: "OPENAI_ANALYSIS_MODEL must not be empty", validation: (m) => m.trim() !== "" })
      ),
      /** How long `voice.call.completed` waits for the analysis before it goes with `summary: null`. */
      maxWaitSeconds: yield* atLeast("ANALYSIS_MAX_WAIT_SECONDS", 60, 0),
      /** Attempts per call in all (the first and the retries); then the job is `failed`. */
      maxAttempts: yield* atLeast("ANALYSIS_MAX_ATTEMPTS", 3, 1),
      /** First retry delay; each next one doubles (plus up to 10% jitter). */
      retryBaseMs: yield* atLeast("ANALYSIS_RETRY_BASE_MS", 2000, 10),
      /** One Responses API request may take this long. */
      requestTimeoutSeconds: yield* atLeast("ANALYSIS_REQUEST_TIMEOUT_SECONDS", 30, 1),
      /** Run the analysis worker on this replica (every replica may; claims never overlap). */
      workerEnabled: yield* Config.boolean("ANALYSIS_WORKER_ENABLED").pipe(Config.withDefault(true)),
      /** How often the worker looks for due jobs when no NOTIFY woke it (retries coming due, dead leases). */
      pollIntervalMs: yield* atLeast("ANALYSIS_POLL_INTERVAL_MS", 1000, 10),
      /** A claim lasts this long; it must outlast one request. */
      leaseSeconds: yield* atLeast("ANALYSIS_LEASE_SECONDS", 90, 1),
      /** Sent as `OpenAI-Organization` / `OpenAI-Project` when set (as the `openai` SDK did). */
      organization: yield* Config.option(Config.string("OPENAI_ORG_ID")),
      project: yield* Config.option(Config.string("OPENAI_PROJECT_ID")),
      /**
       * While call set-ups are in flight on this replica the worker claims nothing, for at most this
       * long per batch (then it goes on anyway, so analysis never stops under constant arrivals);
       * 0: it never waits. Unclaimed jobs stay due for any replica.
       */
      setupHoldMaxMs: yield* atLeast("ANALYSIS_SETUP_HOLD_MAX_MS", 2000, 0),
      /** Jobs a worker claims at once (analysed concurrently). */
      batchSize: yield* atLeast("ANALYSIS_BATCH_SIZE", 4, 1)
    } as const
  })
}) {}
