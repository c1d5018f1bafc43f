import { Effect, Schema } from "effect"
import { jsonBytes } from "../Http/JsonBytes.js"
import { jsonBody, jsonEncoder } from "../Http/RawJson.js"
import { VoiceSession } from "./Api.js"
import { sessionJson } from "./ListJson.js"
import type { SessionDetailRow } from "./Repo.js"

/**
 * A NULL element in `tags`' JSON (`array_to_json`), which `Schema.Array(Schema.String)` refuses. An
 * element holding the text `,null,` matches too: the schema path then answers, with the same body.
 */
const NULL_ELEMENT = /[[,]null[,\]]/

const encodeSession = jsonEncoder(VoiceSession)
const decodeSession = Schema.decodeUnknown(VoiceSession)

/**
 * A session (`get_voice_session`, `get_voice_session_by_stream`) written from its columns, as its
 * list item is; a row with a NULL tag goes through VoiceSession's decoding and encoding, as every
 * row did before (test/call-log-detail.test.ts compares the two), and is refused there: a defect.
 */
export const voiceSessionResponse = (row: SessionDetailRow) =>
  typeof row.tags === "string" && NULL_ELEMENT.test(row.tags)
    ? Effect.flatMap(Effect.orDie(decodeSession(sessionJson.parsedRow(row))), encodeSession)
    : Effect.succeed(jsonBody(jsonBytes((out) => sessionJson.row(out, row))))
