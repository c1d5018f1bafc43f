import { Clock, Effect, Option } from "effect"
import { VoiceSessionExists, VoiceSessionNotFound } from "./Errors.js"
import type { CreateVoiceSessionRequest } from "./Api.js"
import { type SessionDetailRow, type SessionFilter, SessionsRepo } from "./Repo.js"
import { Ids } from "../Ids.js"
import { spanned } from "../Observability/Spans.js"

/**
 * Voice sessions written through the API (calls write theirs through VoiceRecords). A
 * session is "completed" unless said otherwise: it ends now and started `duration_ms`
 * earlier; an "active" one has no end yet.
 */
export class VoiceSessions extends Effect.Service<VoiceSessions>()("VoiceSessions", {
  effect: Effect.gen(function*() {
    const repo = yield* SessionsRepo
    const ids = yield* Ids

    const notFound = (key: string) => Effect.fail(new VoiceSessionNotFound({ key }))

    const create = Effect.fn("VoiceSessions.create")(
      function*(tenant: { tenantId: string; orgId: string | null }, input: CreateVoiceSessionRequest) {
        const now = new Date(yield* Clock.currentTimeMillis)
        const status = input.status ?? "completed"
        const durationMs = input.duration_ms ?? null
        const transcript = input.transcript ?? []
        const inserted = yield* repo.insert({
          id: yield* ids.uuid,
          tenantId: tenant.tenantId,
          orgId: input.org_id ?? tenant.orgId,
          streamId: input.stream_id,
          callSid: input.call_sid ?? null,
          callLogId: null,
          agentVersionId: null,
          agentName: input.agent_name ?? null,
          callType: input.call_type ?? null,
          customerPhone: input.customer_phone ?? null,
          model: input.model ?? null,
          voice: input.voice ?? null,
          status,
          transcript,
          functionCalls: [],
          metadata: input.metadata ?? {},
          tags: input.tags ?? [],
          turnCount: Array.isArray(transcript) ? transcript.length : 0,
          summary: input.summary ?? null,
          sentiment: input.sentiment ?? null,
          durationMs,
          escalated: false,
          startedAt: new Date(now.getTime() - (durationMs ?? 0)),
          endedAt: status === "active" ? null : now
        })
        if (Option.isNone(inserted)) return yield* new VoiceSessionExists({ streamId: input.stream_id })
        return inserted.value
      }
    )

    /** `sessions` is the page as the columns its JSON is written from (ListJson.ts). */
    const list = (filter: SessionFilter) => repo.list(filter).pipe(spanned("VoiceSessions.list"))

    /** A session's columns as its JSON is written (ListJson.ts). Polled by detail views: spanned, as list. */
    const found = (key: string) => (row: SessionDetailRow | undefined) => row === undefined ? notFound(key) : Effect.succeed(row)
    const get = (tenantId: string, id: string) =>
      Effect.flatMap(repo.findById(tenantId, id), found(id)).pipe(spanned("VoiceSessions.get"))
    const byStream = (tenantId: string, streamId: string) =>
      Effect.flatMap(repo.findByStream(tenantId, streamId), found(streamId)).pipe(spanned("VoiceSessions.byStream"))

    return { create, list, get, byStream } as const
  }),
  dependencies: [SessionsRepo.Default]
}) {}
