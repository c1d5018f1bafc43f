import { rowJson } from "../Http/RowJson.js"
import { VoiceSession } from "./Api.js"

/** A voice-session list item (`VoiceSession`): the `voice_sessions` columns it is read from and the JSON written for it. */
export const sessionJson = rowJson(VoiceSession.fields, {
  agent_name: "text",
  call_sid: "text",
  call_type: "text",
  created_at: "timestamp",
  customer_phone: "text",
  duration_ms: "int",
  ended_at: "timestamp",
  function_calls: "jsonb",
  id: "text",
  metadata: "jsonb",
  model: "text",
  org_id: "text",
  rating: "int",
  sentiment: "text",
  started_at: "timestamp",
  status: "text",
  stream_id: "text",
  summary: "text",
  tags: "array",
  tenant_id: "text",
  transcript: "jsonb",
  turn_count: "int",
  updated_at: "timestamp",
  vad_events: "jsonb",
  voice: "text"
})
