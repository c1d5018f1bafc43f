import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { CurrentTenant } from "../Auth/Middleware.js"
import { asApiErrors } from "../Http/ErrorMapping.js"
import { jsonText } from "../Http/RawJson.js"
import { VoiceSessionEvalsListResponse } from "./Api.js"
import { VoiceSessionEvals } from "./VoiceSessionEvals.js"

export const VoiceSessionEvalsHttp = HttpApiBuilder.group(Api, "voiceSessionEvals", (handlers) =>
  Effect.gen(function*() {
    const evals = yield* VoiceSessionEvals
    return handlers
      .handle("list", ({ urlParams }) =>
        Effect.gen(function*() {
          const { tenantId } = yield* CurrentTenant
          const { count, evals: page } = yield* evals.list({
            tenantId,
            minScore: urlParams.min_score ?? null,
            maxScore: urlParams.max_score ?? null,
            tag: urlParams.tag ?? null,
            limit: urlParams.limit ?? 50,
            offset: urlParams.offset ?? 0
          })
          return new VoiceSessionEvalsListResponse({ ok: true, tenant: tenantId, count, evals: page })
        }).pipe(asApiErrors))
      // The body is JSON written by PostgreSQL in VoiceSessionEvalStats' order (Repo.ts).
      .handle("stats", () => Effect.flatMap(CurrentTenant, ({ tenantId }) => Effect.map(evals.stats(tenantId), jsonText)).pipe(asApiErrors))
      .handle("bySession", ({ path }) =>
        Effect.flatMap(CurrentTenant, ({ tenantId }) => evals.bySession(tenantId, path.session_id)).pipe(asApiErrors))
  }))
