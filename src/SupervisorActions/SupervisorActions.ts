import { Clock, Effect } from "effect"
import { orNothing, orRefused } from "../Database/Errors.js"
import { Ids } from "../Ids.js"
import { clip, clipJson } from "../LiveLogs/Events.js"
import { LiveLogs } from "../LiveLogs/LiveLogs.js"
import { type ActionFilters, type NewAction, SupervisorActionsRepo } from "./Repo.js"
import { wireAction } from "./WireAction.js"

/**
 * The durable log of what supervisors did to live sessions. `record` is for the session
 * action endpoints (they write the row when an action is taken); the lists read it.
 */
export class SupervisorActions extends Effect.Service<SupervisorActions>()("SupervisorActions", {
  effect: Effect.gen(function*() {
    const repo = yield* SupervisorActionsRepo
    const ids = yield* Ids
    const logs = yield* LiveLogs

    /** Every row written here is also a live log event for the tenant's subscribers. */
    const published = (a: NewAction) =>
      Effect.sync(() =>
        logs.publish({
          type: "supervisor.action",
          tenant_id: a.tenantId,
          timestamp: a.at.toISOString(),
          call_sid: a.callSid,
          stream_sid: a.streamSid,
          data: {
            id: a.id,
            action: wireAction(a.action),
            supervisor: clip(a.supervisor, 200),
            target: a.target,
            reason: a.reason === null ? null : clip(a.reason, 1_000),
            note: a.note === null ? null : clip(a.note, 1_000),
            metadata: clipJson(a.metadata ?? {}, 1_000)
          }
        })
      )

    const record = Effect.fn("SupervisorActions.record")(function*(action: Omit<NewAction, "id" | "at">) {
      const at = new Date(yield* Clock.currentTimeMillis)
      const row = { ...action, id: yield* ids.uuid, at }
      yield* orRefused(repo.insert(row))
      yield* published(row)
    })

    const list = Effect.fn("SupervisorActions.list")((filters: ActionFilters) => orNothing(repo.list(filters), []))

    const listWithCount = Effect.fn("SupervisorActions.listWithCount")((filters: ActionFilters) =>
      orNothing(Effect.all({ actions: repo.list(filters), count: repo.count(filters) }), { actions: [], count: 0 }))

    return { record, list, listWithCount } as const
  }),
  dependencies: [SupervisorActionsRepo.Default]
}) {}
