import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { CurrentTenant } from "../Auth/Middleware.js"
import { asApiErrors } from "../Http/ErrorMapping.js"
import { jsonText } from "../Http/RawJson.js"
import { VoiceSessionEvalsListResponse } from "./Api.js"
import { VoiceSessionEvals } from "./VoiceSessionEvals.js"

/** The tenant's evaluation statistics (`get_voice_session_eval_stats`); also served by the hot-read route. */
export const evalStats = (evals: VoiceSessionEvals, tenantId: string) =>
  // The body is JSON written by PostgreSQL in VoiceSessionEvalStats' order (Repo.ts).
  asApiErrors(Effect.map(evals.stats(tenantId), jsonText))

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
      .handle("stats", () => Effect.flatMap(CurrentTenant, ({ tenantId }) => evalStats(evals, tenantId)))
      .handle("bySession", ({ path }) =>
        Effect.flatMap(CurrentTenant, ({ tenantId }) => evals.bySession(tenantId, path.session_id)).pipe(asApiErrors))
  }))
