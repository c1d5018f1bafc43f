import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { CurrentTenant } from "../Auth/Middleware.js"
import { asApiErrors } from "../Http/ErrorMapping.js"
import { jsonWithItemArray } from "../Http/RawJson.js"
import { VoiceSessionsListResponse } from "./Api.js"
import { VoiceSessions } from "./VoiceSessions.js"

export const VoiceSessionsHttp = HttpApiBuilder.group(Api, "voiceSessions", (handlers) =>
  Effect.gen(function*() {
    const sessions = yield* VoiceSessions
    return handlers
      .handle("list", ({ urlParams }) =>
        Effect.gen(function*() {
          const tenant = yield* CurrentTenant
          const { count, sessions: page } = yield* sessions.list({
            tenantId: tenant.tenantId,
            status: urlParams.status ?? null,
            search: urlParams.search === undefined || urlParams.search.trim() === "" ? null : urlParams.search.trim(),
            startedAfter: urlParams.started_after ?? null,
            ascending: urlParams.sort === "asc" || urlParams.sort === "started_at_asc",
            limit: urlParams.limit ?? 50,
            offset: urlParams.offset ?? 0
          })
          return jsonWithItemArray<typeof VoiceSessionsListResponse.Encoded, "sessions">(
            { ok: true, tenant: tenant.tenantId, count },
            "sessions",
            page
          )
        }).pipe(asApiErrors))
      .handle("create", ({ payload }) =>
        Effect.flatMap(CurrentTenant, (tenant) => sessions.create(tenant, payload)).pipe(asApiErrors))
      .handle("byStream", ({ path }) =>
        Effect.flatMap(CurrentTenant, (tenant) => sessions.byStream(tenant.tenantId, path.stream_id)).pipe(asApiErrors))
      .handle("get", ({ path }) =>
        Effect.flatMap(CurrentTenant, (tenant) => sessions.get(tenant.tenantId, path.id)).pipe(asApiErrors))
  }))
