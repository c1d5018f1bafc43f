import * as SqlClient from "@effect/sql/SqlClient"
import { Clock, Effect, Option, ParseResult, Schema } from "effect"
import { orUnavailable } from "../Database/Errors.js"
import { WebhookEvents, WebhookOutbox } from "../Outbox/WebhookOutbox.js"
import { Agents } from "../Agents/Agents.js"
import { AnyJson } from "../Http/Schemas.js"
import { type EvalFilter, EvalsRepo } from "./Repo.js"
import { InvalidVoiceRecordInput, VoiceSessionNotFound } from "../VoiceSessions/Errors.js"
import { VoiceSessionEvalNotFound } from "./Errors.js"
import type { VoiceSessionEval } from "./Api.js"
import { SessionsRepo } from "../VoiceSessions/Repo.js"
import { Ids } from "../Ids.js"

const OptionalText = Schema.optional(Schema.NullOr(Schema.String))

/** Which session an automation call is about. */
const SessionRef = Schema.Struct({ session_id: OptionalText, stream_id: OptionalText, call_sid: OptionalText })

/** The evaluation keys the `voice/evaluation` automation reads from its payload. */
const RecordEvalInput = Schema.Struct({
  ...SessionRef.fields,
  score: Schema.Number.pipe(
    Schema.filter((n) => Number.isFinite(n) && n >= 0 && n <= 1, { message: () => "score must be a number from 0 to 1" })
  ),
  tags: Schema.optional(Schema.NullOr(Schema.Array(Schema.String))),
  rubric: Schema.optional(AnyJson),
  notes: OptionalText,
  source: OptionalText,
  metadata: Schema.optional(AnyJson)
})

const describe = (error: ParseResult.ParseError) =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map((issue) => (issue.path.length === 0 ? issue.message : `${issue.path.join(".")}: ${issue.message}`))
    .join("; ")

const decode = <A, I>(schema: Schema.Schema<A, I>, input: unknown) =>
  Schema.decodeUnknown(schema, { errors: "all" })(input).pipe(
    Effect.mapError((error) => new InvalidVoiceRecordInput({ message: `Invalid evaluation: ${describe(error)}` }))
  )

/**
 * Quality evaluations of voice sessions: one per session, linked to the session, its call
 * log and the agent version that served it (so governance can judge versions by them).
 */
export class VoiceSessionEvals extends Effect.Service<VoiceSessionEvals>()("VoiceSessionEvals", {
  effect: Effect.gen(function*() {
    const repo = yield* EvalsRepo
    const sessions = yield* SessionsRepo
    const agents = yield* Agents
    const ids = yield* Ids
    const sql = yield* SqlClient.SqlClient
    const outbox = yield* WebhookOutbox

    /** A session named by id (UUID), stream id or call SID; "session_id" may be either of the first two. */
    const findSession = (tenantId: string, ref: typeof SessionRef.Type) =>
      Effect.gen(function*() {
        const key = ref.session_id ?? ref.stream_id ?? ref.call_sid ?? null
        if (key === null) {
          return yield* new InvalidVoiceRecordInput({ message: "session_id (or stream_id or call_sid) is required" })
        }
        const byId = ref.session_id == null ? Option.none() : yield* sessions.linksById(tenantId, ref.session_id)
        const found = Option.isSome(byId) ? byId : yield* sessions.links({
          tenantId,
          streamId: ref.session_id ?? ref.stream_id ?? null,
          callSid: ref.session_id != null || ref.stream_id != null ? null : ref.call_sid ?? null
        })
        if (Option.isNone(found)) return yield* new VoiceSessionNotFound({ key })
        return found.value
      })

    /** Writes the evaluation (replacing the session's) and its event. The post-call analysis writes its own (CallAnalysis/Records.ts). */
    const write = (tenantId: string, payload: unknown) => Effect.gen(function*() {
      const input = yield* decode(RecordEvalInput, payload)
      const session = yield* findSession(tenantId, input)
      const version = session.agent_version_id === null
        ? Option.none()
        : yield* Effect.option(agents.version(tenantId, session.agent_version_id))
      // The evaluation and its `voice.session.evaluated` event commit together.
      const row = {
        id: yield* ids.uuid,
        tenantId,
        voiceSessionId: session.id,
        streamId: session.stream_id,
        callLogId: session.call_log_id,
        agentVersionId: session.agent_version_id,
        agentKey: Option.match(version, { onNone: () => null, onSome: (v) => v.agent_key }),
        agentName: Option.match(version, { onNone: () => null, onSome: (v) => v.agent_name }),
        score: input.score,
        tags: input.tags ?? [],
        rubric: input.rubric ?? {},
        notes: input.notes ?? null,
        source: input.source ?? "automation",
        metadata: input.metadata ?? {}
      }
      const announce = (evaluation: VoiceSessionEval) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          outbox.enqueue(tenantId, WebhookEvents.sessionEvaluated, {
            eval_id: evaluation.id,
            session_id: evaluation.session_id,
            stream_id: evaluation.stream_id ?? null,
            call_log_id: evaluation.call_log_id,
            agent_version_id: evaluation.agent_version_id,
            score: evaluation.score,
            tags: evaluation.tags,
            source: evaluation.source ?? null
          }, new Date(now))).pipe(Effect.as(evaluation))
      return yield* orUnavailable(sql.withTransaction(Effect.flatMap(repo.upsert(row), announce)))
    })

    const record = Effect.fn("VoiceSessionEvals.record")(function*(tenantId: string, payload: unknown) {
      return yield* write(tenantId, payload)
    })

    const forSession = (tenantId: string, ref: typeof SessionRef.Type) =>
      Effect.gen(function*() {
        const session = yield* findSession(tenantId, ref)
        const found = yield* repo.bySession(tenantId, session.id)
        if (Option.isNone(found)) return yield* new VoiceSessionEvalNotFound({ key: session.stream_id })
        return found.value
      })

    const get = Effect.fn("VoiceSessionEvals.get")(function*(tenantId: string, payload: unknown) {
      return yield* forSession(tenantId, yield* decode(SessionRef, payload))
    })

    /** By the session's id or its stream id; a missing session reads as a missing evaluation. */
    const bySession = Effect.fn("VoiceSessionEvals.bySession")(function*(tenantId: string, key: string) {
      return yield* forSession(tenantId, { session_id: key }).pipe(
        Effect.catchTags({
          VoiceSessionNotFound: () => new VoiceSessionEvalNotFound({ key }),
          InvalidVoiceRecordInput: () => new VoiceSessionEvalNotFound({ key })
        })
      )
    })

    const list = Effect.fn("VoiceSessionEvals.list")(function*(filter: EvalFilter) {
      if (filter.minScore !== null && filter.maxScore !== null && filter.minScore > filter.maxScore) {
        return yield* new InvalidVoiceRecordInput({ message: "min_score must not be greater than max_score" })
      }
      const [evals, count] = yield* Effect.all([repo.page(filter), repo.count(filter)], { concurrency: 2 })
      return { evals, count }
    })

    return {
      record,
      get,
      bySession,
      list,
      stats: (tenantId: string) => repo.stats(tenantId),
      /** Eval count, average score and high-quality rate per version over the last `lookbackHours`. */
      versionStats: (tenantId: string, versionIds: ReadonlyArray<string>, lookbackHours: number) =>
        repo.versionStats(tenantId, versionIds, lookbackHours),
      /** Per version over the last `lookbackHours`: auto and manual evaluations counted and averaged apart. */
      versionScoresBySource: (tenantId: string, versionIds: ReadonlyArray<string>, lookbackHours: number) =>
        repo.versionScoresBySource(tenantId, versionIds, lookbackHours)
    } as const
  }),
  dependencies: [EvalsRepo.Default, SessionsRepo.Default, Agents.Default, WebhookOutbox.Default]
}) {}
