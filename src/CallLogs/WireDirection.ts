import type { CallDirection } from "./CallKey.js"

/**
 * The spec's `CallDirection` is inbound/outbound, and a client generated from it refuses any
 * other value. A console test call is stored as `web` (Twilio is never asked about it, CallKey.ts)
 * but is the browser calling the agent, so on the wire it is `inbound`; it stays told apart by
 * its `from_number` (`console:<actor>`), its `WB` call SID and the `direction=web` filter.
 * The select lists of `call_logs` (ListJson.ts, DetailJson.ts) read `direction` through this.
 */
export const WIRE_DIRECTION_SQL = "case direction when 'web' then 'inbound' else direction end"

/**
 * The stored directions a `direction` filter matches: a call listed as `inbound` is found by
 * `inbound`; `web` (a value the spec's free-string filter allows) finds the console's test calls only.
 */
export const storedDirections = (filter: "inbound" | "outbound" | "web"): ReadonlyArray<CallDirection> =>
  filter === "inbound" ? ["inbound", "web"] : [filter]
