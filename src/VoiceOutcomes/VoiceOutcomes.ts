import { Effect, Either, Option } from "effect"
import { InvalidVoiceRecordInput } from "../VoiceSessions/Errors.js"
import { VoiceOutcomeNotFound } from "./Errors.js"
import { VoiceOutcomeStats, VoiceOutcomeTimeseries } from "./Api.js"
import { type OutcomeFilter, OutcomesRepo } from "./Repo.js"
import { parseSeries, parseWindow } from "./Windows.js"

const orInvalid = <A>(parsed: Either.Either<A, string>) =>
  Either.match(parsed, {
    onLeft: (message) => Effect.fail(new InvalidVoiceRecordInput({ message })),
    onRight: Effect.succeed
  })

/** Canonical call outcomes: lists, lookups, and aggregates over a look-back window. */
export class VoiceOutcomes extends Effect.Service<VoiceOutcomes>()("VoiceOutcomes", {
  effect: Effect.gen(function*() {
    const repo = yield* OutcomesRepo

    const found = (key: string) =>
      Option.match({
        onNone: () => Effect.fail(new VoiceOutcomeNotFound({ key })),
        onSome: Effect.succeed
      })

    const list = Effect.fn("VoiceOutcomes.list")(function*(filter: OutcomeFilter) {
      const [outcomes, count] = yield* Effect.all([repo.page(filter), repo.count(filter)], { concurrency: 2 })
      return { outcomes, count }
    })

    const get = Effect.fn("VoiceOutcomes.get")(function*(tenantId: string, id: string) {
      return yield* repo.findById(tenantId, id).pipe(Effect.flatMap(found(id)))
    })

    const byStream = Effect.fn("VoiceOutcomes.byStream")(function*(tenantId: string, streamSid: string) {
      return yield* repo.findByStream(tenantId, streamSid).pipe(Effect.flatMap(found(streamSid)))
    })

    const stats = Effect.fn("VoiceOutcomes.stats")(function*(tenantId: string, window: string | undefined) {
      const { seconds } = yield* orInvalid(parseWindow(window))
      const [totals, mix] = yield* Effect.all([repo.totals(tenantId, seconds), repo.mixes(tenantId, seconds)], {
        concurrency: 2
      })
      return new VoiceOutcomeStats({
        ...totals,
        resolution_mix: mix.resolution,
        billing_status_mix: mix.billing_status,
        sku_mix: mix.billable_sku,
        risk_mix: mix.risk_level
      })
    })

    const timeseries = Effect.fn("VoiceOutcomes.timeseries")(
      function*(tenantId: string, window: string | undefined, bucket: string | undefined) {
        const span = yield* orInvalid(parseSeries(window, bucket))
        const points = yield* repo.series(tenantId, span.window.seconds, span.bucket.seconds)
        return new VoiceOutcomeTimeseries({ window: span.window.label, bucket: span.bucket.label, points })
      }
    )

    /** Calls and escalation, failure and abandonment rates per version over the last `lookbackHours` (rollout governance). */
    const versionRates = (tenantId: string, versionIds: ReadonlyArray<string>, lookbackHours: number) =>
      repo.versionRates(tenantId, versionIds, lookbackHours)

    return { list, get, byStream, stats, timeseries, versionRates } as const
  }),
  dependencies: [OutcomesRepo.Default]
}) {}
