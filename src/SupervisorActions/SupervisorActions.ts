import { Clock, Effect } from "effect"
import { orNothing, orRefused } from "../Database/Errors.js"
import { Ids } from "../Ids.js"
import { type ActionFilters, type NewAction, SupervisorActionsRepo } from "./Repo.js"

/**
 * The durable log of what supervisors did to live sessions. `record` is for the session
 * action endpoints (they write the row when an action is taken); the lists read it.
 */
export class SupervisorActions extends Effect.Service<SupervisorActions>()("SupervisorActions", {
  effect: Effect.gen(function*() {
    const repo = yield* SupervisorActionsRepo
    const ids = yield* Ids

    const record = Effect.fn("SupervisorActions.record")(function*(action: Omit<NewAction, "id" | "at">) {
      const at = new Date(yield* Clock.currentTimeMillis)
      yield* orRefused(repo.insert({ ...action, id: yield* ids.uuid, at }))
    })

    const list = Effect.fn("SupervisorActions.list")((filters: ActionFilters) => orNothing(repo.list(filters), []))

    const listWithCount = Effect.fn("SupervisorActions.listWithCount")((filters: ActionFilters) =>
      orNothing(Effect.all({ actions: repo.list(filters), count: repo.count(filters) }), { actions: [], count: 0 }))

    return { record, list, listWithCount } as const
  }),
  dependencies: [SupervisorActionsRepo.Default]
}) {}
