import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { asAdminErrors } from "../Http/ErrorMapping.js"
import { DispatchSweep } from "./DispatchSweep.js"
import { FollowUpSweep } from "./FollowUpSweep.js"
import { ReconciliationSweep } from "./ReconciliationSweep.js"
import {
  AdminExternalCallbackTaskReconciliationResponse,
  AdminOperatorCallbackDispatchResponse,
  AdminOperatorFollowUpNotificationResponse,
  AdminOperatorQueueSweepResponse
} from "./Schemas.js"
import { SlaSweep } from "./SlaSweep.js"

/** Tasks handled by one admin sweep when no limit is given. */
export const DEFAULT_SWEEP_LIMIT = 100

const options = (q: { readonly auth_token?: string; readonly limit?: number; readonly emit_webhooks?: boolean }) => ({
  limit: q.limit ?? DEFAULT_SWEEP_LIMIT,
  emitWebhooks: q.emit_webhooks ?? true,
  authToken: q.auth_token ?? null
})

export const OperatorSweepsHttp = HttpApiBuilder.group(Api, "operatorSweeps", (handlers) =>
  Effect.gen(function*() {
    const sla = yield* SlaSweep
    const followUp = yield* FollowUpSweep
    const dispatch = yield* DispatchSweep
    const reconcile = yield* ReconciliationSweep
    return handlers
      .handle("sla", ({ urlParams }) =>
        sla.sweep(options(urlParams)).pipe(Effect.map((result) => new AdminOperatorQueueSweepResponse({ ok: true, result })), asAdminErrors))
      .handle("followUp", ({ urlParams }) =>
        followUp.sweep({ ...options(urlParams), sendNotifications: urlParams.send_notifications ?? true }).pipe(
          Effect.map((result) => new AdminOperatorFollowUpNotificationResponse({ ok: true, result })),
          asAdminErrors
        ))
      .handle("dispatch", ({ urlParams }) =>
        dispatch.sweep({ ...options(urlParams), dryRun: urlParams.dry_run ?? false }).pipe(
          Effect.map((result) => new AdminOperatorCallbackDispatchResponse({ ok: true, result })),
          asAdminErrors
        ))
      .handle("reconcile", ({ urlParams }) =>
        reconcile.sweep(options(urlParams)).pipe(
          Effect.map((result) => new AdminExternalCallbackTaskReconciliationResponse({ ok: true, result })),
          asAdminErrors
        ))
  }))
