import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { CurrentTenant } from "../Auth/Middleware.js"
import { asApiErrors } from "../Http/ErrorMapping.js"
import { jsonList } from "../Http/RawJson.js"
import { type VoiceSessionFilters, VoiceSessionsListResponse } from "./Api.js"
import { sessionJson } from "./ListJson.js"
import { SESSION_VALUES_FROM } from "./SessionList.js"
import { voiceSessionResponse } from "./DetailJson.js"
import { VoiceSessions } from "./VoiceSessions.js"

const listJson = jsonList(VoiceSessionsListResponse.fields, "sessions")

/** One session of the tenant by id (`get_voice_session`); also served by the hot-read route (Http/HotReads.ts). */
export const voiceSessionDetail = (sessions: VoiceSessions, tenantId: string, id: string) =>
  asApiErrors(Effect.map(sessions.get(tenantId, id), voiceSessionResponse))

/** A page of the tenant's sessions (`list_voice_sessions`); also served by the hot-read route (Http/HotReads.ts). */
export const voiceSessionsPage = (sessions: VoiceSessions, tenantId: string, urlParams: VoiceSessionFilters) =>
  asApiErrors(Effect.map(
    sessions.list({
      tenantId,
      status: urlParams.status ?? null,
      search: urlParams.search === undefined || urlParams.search.trim() === "" ? null : urlParams.search.trim(),
      startedAfter: urlParams.started_after ?? null,
      ascending: urlParams.sort === "asc" || urlParams.sort === "started_at_asc",
      limit: urlParams.limit ?? 50,
      offset: urlParams.offset ?? 0
    }),
    ({ count, sessions: page }) => listJson({ ok: true, tenant: tenantId, count }, (out) => sessionJson.rowsOfValues(out, page, SESSION_VALUES_FROM))
  ))

export const VoiceSessionsHttp = HttpApiBuilder.group(Api, "voiceSessions", (handlers) =>
  Effect.gen(function*() {
    const sessions = yield* VoiceSessions
    return handlers
      .handle("list", ({ urlParams }) =>
        Effect.flatMap(CurrentTenant, (tenant) => voiceSessionsPage(sessions, tenant.tenantId, urlParams)))
      .handle("create", ({ payload }) =>
        Effect.flatMap(CurrentTenant, (tenant) => sessions.create(tenant, payload)).pipe(asApiErrors))
      .handle("byStream", ({ path }) =>
        Effect.flatMap(CurrentTenant, (tenant) => sessions.byStream(tenant.tenantId, path.stream_id)).pipe(Effect.map(voiceSessionResponse), asApiErrors))
      .handle("get", ({ path }) => Effect.flatMap(CurrentTenant, (tenant) => voiceSessionDetail(sessions, tenant.tenantId, path.id)))
  }))
