import { Effect, Schema } from "effect"
import { jsonbEntries } from "../Http/JsonbEntries.js"
import { jsonEncoder, jsonEnvelope } from "../Http/RawJson.js"
import { type ColumnRow, rowJson } from "../Http/RowJson.js"
import { WIRE_DIRECTION_SQL } from "./WireDirection.js"
import { AnsweredBy, CallDirection, CallLog, CallLogDetailResponse, CallOutcome, CallStatus, FunctionCallEntry, TranscriptEntry } from "./Schemas.js"

/**
 * A call's detail (`CallLog`): the `call_logs` columns it is read from and the JSON written for
 * it. The transcript and function calls are read by their wire schemas (TranscriptEntry,
 * FunctionCallEntry), so they are rewritten entry by entry in those schemas' order.
 */
export const detailJson = rowJson(CallLog.fields, {
  answered_by: "text",
  call_sid: "text",
  created_at: "timestamp",
  direction: { selectedAs: WIRE_DIRECTION_SQL },
  duration_seconds: "int",
  ended_at: "timestamp",
  error_message: "text",
  escalated: "boolean",
  escalation_reason: "text",
  from_number: "text",
  function_calls: jsonbEntries(FunctionCallEntry.fields, {
    arguments: "json",
    duration_ms: "optionalNullableInt",
    name: "string",
    result: "optionalJson",
    timestamp: "string"
  }),
  id: "text",
  model: "text",
  outcome: "text",
  recording_url: "text",
  started_at: "timestamp",
  status: "text",
  stream_sid: "text",
  summary: "text",
  system_prompt_key: "text",
  tenant_id: "text",
  to_number: "text",
  transcript: jsonbEntries(TranscriptEntry.fields, { content: "string", role: "string", timestamp: "string" }),
  updated_at: "timestamp",
  voice: "text"
})

/** A row of `detailJson.selectList`. */
export type CallLogDetailRow = ColumnRow<typeof CallLog.fields>

const directions = new Set<unknown>(CallDirection.literals)
const statuses = new Set<unknown>(CallStatus.literals)
const outcomes = new Set<unknown>([null, ...CallOutcome.literals])
const answeredBy = new Set<unknown>([null, ...AnsweredBy.literals])

/** Whether the row's enum columns hold values the wire schema accepts (else it refuses the row: a 500, as before). */
const hasKnownValues = (row: CallLogDetailRow) =>
  directions.has(row.direction) && statuses.has(row.status) && outcomes.has(row.outcome) && answeredBy.has(row.answered_by)

const writeDetail = jsonEnvelope(CallLogDetailResponse.fields, "call")
const encodeDetail = jsonEncoder(CallLogDetailResponse)
const decodeCall = Schema.decodeUnknown(CallLog)

/**
 * The `get_call_log` response for a row, written from its columns; a row the fast writers leave
 * to the schema (odd enum values, transcript entries of another shape, numbers JavaScript writes
 * otherwise) goes through CallLog's decoding and the response's encoding, as every row did
 * before (test/call-log-detail.test.ts compares the two byte for byte). A row the schema
 * refuses is a defect, as it was.
 */
export const callLogDetailResponse = (row: CallLogDetailRow) => {
  const written = hasKnownValues(row) ? writeDetail({ ok: true }, (out) => detailJson.row(out, row)) : undefined
  if (written !== undefined) return Effect.succeed(written)
  return Effect.flatMap(Effect.orDie(decodeCall(detailJson.parsedRow(row))), (call) =>
    encodeDetail(new CallLogDetailResponse({ ok: true, call })))
}
