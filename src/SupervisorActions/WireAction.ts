import type { SupervisorActionType } from "./Schemas.js"

/**
 * What the log stores: the spec's actions, and `refuse`, which a cost/abuse limit writes when it
 * refuses work (Limits/Refusals.ts, supervisor `limits`).
 */
export type StoredAction = SupervisorActionType | "refuse"

/**
 * The spec's `SupervisorActionType` has no `refuse`, and a client generated from it refuses any
 * other value: a refusal is shown as `end` (the limit ended the call, or never let it start),
 * told apart by `supervisor: "limits"`, its `reason` and its `metadata.kind`.
 */
export const wireAction = (action: StoredAction): SupervisorActionType => action === "refuse" ? "end" : action

/** The same mapping over the `action` column, for the select list. */
export const WIRE_ACTION_SQL = "case action when 'refuse' then 'end' else action end"

/** The stored actions an `action` filter matches: a row listed as `end` is found by `end`. */
export const storedActions = (filter: SupervisorActionType): ReadonlyArray<StoredAction> =>
  filter === "end" ? ["end", "refuse"] : [filter]
