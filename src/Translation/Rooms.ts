import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Option } from "effect"
import { orUnavailable } from "../Database/Errors.js"
import { mediaStreamUrl } from "../Twilio/Twiml.js"
import { AppConfig } from "../Config.js"
import { TranslationConfig } from "./TranslationConfig.js"

export type Side = "a" | "b"

export interface NewRoom {
  readonly roomId: string
  readonly tenantId: string
  readonly languageA: string
  readonly languageB: string
  readonly participantA: string
  readonly participantB: string
  readonly at: Date
}

/** One leg as its media stream sees it: its side, the languages, the other leg's call. */
export interface RoomLeg {
  readonly roomId: string
  readonly side: Side
  readonly language: string
  readonly peerLanguage: string
  /** Participant A's call: the one the room's call record is written under. */
  readonly callSidA: string | null
  readonly callSidB: string | null
}

interface RoomRow {
  readonly room_id: string
  readonly language_a: string
  readonly language_b: string
  readonly call_sid_a: string | null
  readonly call_sid_b: string | null
}

/** The translation_rooms table (migration 0016): the room's languages and legs, shared by replicas. */
export class TranslationRooms extends Effect.Service<TranslationRooms>()("TranslationRooms", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const platform = yield* AppConfig
    const config = yield* TranslationConfig
    const defaultStreamUrl = mediaStreamUrl(platform.publicBaseUrl)

    const create = (room: NewRoom) =>
      orUnavailable(sql`
        insert into translation_rooms (room_id, tenant_id, language_a, language_b, participant_a, participant_b, created_at)
        values (${room.roomId}, ${room.tenantId}, ${room.languageA}, ${room.languageB},
                ${room.participantA}, ${room.participantB}, ${room.at})`).pipe(Effect.asVoid)

    const legPlaced = (tenantId: string, roomId: string, side: Side, callSid: string) =>
      orUnavailable(side === "a"
        ? sql`update translation_rooms set call_sid_a = ${callSid} where tenant_id = ${tenantId} and room_id = ${roomId}`
        : sql`update translation_rooms set call_sid_b = ${callSid} where tenant_id = ${tenantId} and room_id = ${roomId}`)
        .pipe(Effect.asVoid)

    /**
     * Where a leg's TwiML sends its media stream. With REPLICA_BASE_URL the first webhook of
     * the room claims its replica (one atomic update) and the second is sent to the same one.
     */
    const streamUrlFor = (tenantId: string, roomId: string) =>
      Option.match(config.replicaBaseUrl, {
        onNone: () => Effect.succeed(defaultStreamUrl),
        onSome: (mine) =>
          orUnavailable(sql<{ host_base_url: string }>`
            update translation_rooms set host_base_url = coalesce(host_base_url, ${mine})
            where tenant_id = ${tenantId} and room_id::text = ${roomId}
            returning host_base_url`).pipe(
              Effect.map((rows) => mediaStreamUrl(rows[0]?.host_base_url ?? mine))
            )
      })

    /** The leg `callSid` is, in the room its stream names (none: not a leg of that room, or the room has ended). */
    const leg = (tenantId: string, roomId: string, callSid: string) =>
      orUnavailable(sql<RoomRow>`
        select room_id, language_a, language_b, call_sid_a, call_sid_b from translation_rooms
        where tenant_id = ${tenantId} and room_id::text = ${roomId} and ended_at is null
          and (call_sid_a = ${callSid} or call_sid_b = ${callSid})`).pipe(
          Effect.map((rows) =>
            Option.map(Option.fromNullable(rows[0]), (row): RoomLeg => {
              const side: Side = row.call_sid_a === callSid ? "a" : "b"
              return {
                roomId: row.room_id,
                side,
                language: side === "a" ? row.language_a : row.language_b,
                peerLanguage: side === "a" ? row.language_b : row.language_a,
                callSidA: row.call_sid_a,
                callSidB: row.call_sid_b
              }
            })
          )
        )

    const ended = (tenantId: string, roomId: string, reason: string, at: Date) =>
      orUnavailable(sql`
        update translation_rooms set ended_at = ${at}, end_reason = ${reason}
        where tenant_id = ${tenantId} and room_id = ${roomId} and ended_at is null`).pipe(Effect.asVoid)

    return { create, legPlaced, streamUrlFor, leg, ended } as const
  }),
  dependencies: [TranslationConfig.Default]
}) {}
