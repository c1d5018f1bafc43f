import { rowJson } from "../Http/RowJson.js"
import { CallLogSummary } from "./Schemas.js"
import { WIRE_DIRECTION_SQL } from "./WireDirection.js"

/** A call-log list item (`CallLogSummary`): the `call_logs` columns it is read from and the JSON written for it. */
export const summaryJson = rowJson(CallLogSummary.fields, {
  direction: { selectedAs: WIRE_DIRECTION_SQL },
  duration_seconds: "int",
  ended_at: "timestamp",
  escalated: "boolean",
  from_number: "text",
  function_call_count: "int",
  id: "text",
  outcome: "text",
  started_at: "timestamp",
  status: "text",
  stream_sid: "text",
  to_number: "text",
  transcript_length: "int"
})
