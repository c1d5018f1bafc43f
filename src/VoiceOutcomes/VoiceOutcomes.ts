import { Effect, Either, Option } from "effect"
import { InvalidVoiceRecordInput } from "../VoiceSessions/Errors.js"
import { VoiceOutcomeNotFound } from "./Errors.js"
import { type OutcomeFilter, OutcomesRepo } from "./Repo.js"
import { parseSeries, parseWindow } from "./Windows.js"
import { spanned } from "../Observability/Spans.js"

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

    // Polled by dashboards: a span only when tracing is on, no stack captured per call (Effect.fn's).

    /** The window's VoiceOutcomeStats as JSON text (RollupSql.ts: PostgreSQL writes it). */
    const stats = (tenantId: string, window: string | undefined) =>
      Effect.flatMap(orInvalid(parseWindow(window)), ({ seconds }) => repo.statsJson(tenantId, seconds)).pipe(
        spanned("VoiceOutcomes.stats")
      )

    /** The series' labels, as the caller wrote them (normalized), and its points as JSON text. */
    const timeseries = (tenantId: string, window: string | undefined, bucket: string | undefined) =>
      Effect.flatMap(orInvalid(parseSeries(window, bucket)), (span) =>
        Effect.map(repo.seriesJson(tenantId, span.window.seconds, span.bucket.seconds), (points) => ({
          window: span.window.label,
          bucket: span.bucket.label,
          points
        }))).pipe(spanned("VoiceOutcomes.timeseries"))

    /** Calls and escalation, failure and abandonment rates per version over the last `lookbackHours` (rollout governance). */
    const versionRates = (tenantId: string, versionIds: ReadonlyArray<string>, lookbackHours: number) =>
      repo.versionRates(tenantId, versionIds, lookbackHours)

    return { list, get, byStream, stats, timeseries, versionRates } as const
  }),
  dependencies: [OutcomesRepo.Default]
}) {}
