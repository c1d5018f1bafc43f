import { jsonBytes } from "../Http/JsonBytes.js"
import { jsonBody } from "../Http/RawJson.js"
import { sessionJson } from "./ListJson.js"
import type { SessionDetailRow } from "./Repo.js"

/**
 * A session (`get_voice_session`, `get_voice_session_by_stream`) written from its columns, as its
 * list item is (a NULL tag is left out in the select list, Http/RowJson.ts `array`), the same
 * body VoiceSession's encoding writes (test/call-log-detail.test.ts compares the two).
 */
export const voiceSessionResponse = (row: SessionDetailRow) => jsonBody(jsonBytes((out) => sessionJson.row(out, row)))
