import { Effect, Metric } from "effect"
import { label, limitRefusals } from "../Observability/Metrics.js"
import { SupervisorActions } from "../SupervisorActions/SupervisorActions.js"
import type { LimitRefused } from "./Errors.js"

export type WorkKind = "outbound_call" | "inbound_call" | "sms"

/** What a refusal leaves behind: the metric and a supervisor action log row (`refuse`, by `limits`). */
export class Refusals extends Effect.Service<Refusals>()("Refusals", {
  effect: Effect.gen(function*() {
    const actions = yield* SupervisorActions

    const note = Effect.fn("Refusals.note")(function*(
      tenantId: string,
      kind: WorkKind,
      refusal: LimitRefused,
      detail: { readonly callSid: string | null; readonly target: string | null }
    ) {
      yield* Metric.increment(Metric.taggedWithLabels(limitRefusals, [
        label("tenant", tenantId),
        label("reason", refusal.reason),
        label("kind", kind)
      ]))
      yield* Effect.logInfo("limit refused work").pipe(
        Effect.annotateLogs({ tenant_id: tenantId, reason: refusal.reason, kind })
      )
      // The log is for people reviewing abuse; failing to write it must not change the answer.
      yield* actions.record({
        tenantId,
        streamSid: detail.callSid ?? "-",
        callSid: detail.callSid,
        action: "refuse",
        supervisor: "limits",
        target: detail.target,
        reason: refusal.reason,
        note: refusal.message,
        metadata: { kind, status: refusal.status }
      }).pipe(Effect.catchAll((error) => Effect.logWarning("could not log a limit refusal", error.message)))
    })

    return { note } as const
  })
}) {}
