import { Deferred, Effect, FiberId } from "effect"
import type { StatementPart } from "../Database/StatementParts.js"
import type { CallIdentity } from "../Media/CallIdentity.js"
import type { EndReason } from "../Media/BridgeHooks.js"
import { TranslationRoom, type RoomHooks } from "./TranslationRoom.js"
import type { Side } from "./Rooms.js"

export interface RoomEnding {
  readonly reason: EndReason
  readonly side: Side | undefined
  readonly message: string | null
}

/** A room as this replica holds it: the legs' identities, the end, who writes the record. */
export interface HeldRoom {
  readonly room: TranslationRoom
  readonly ended: Deferred.Deferred<RoomEnding>
  readonly identities: { a?: CallIdentity; b?: CallIdentity }
  readonly startedAt: Date
  /** Set by the leg that wraps the room up (record, hang-ups): exactly one does. */
  wrapping: boolean
  /** Done once the wrap-up has tried the record: the other leg waits for it before leaving the ledger. */
  readonly wrapped: Deferred.Deferred<void>
  /** Each leg's "recorded" mark in the live-calls ledger (the room's one record covers both). */
  readonly recorded: { a?: Effect.Effect<void>; b?: Effect.Effect<void> }
  /** Each leg's ledger row delete, written in the room's record statement. */
  readonly leaving: { a?: StatementPart; b?: StatementPart }
}

/**
 * The translation rooms whose legs this replica holds, by room id: the second leg's stream
 * finds the first one's here. Per replica by design (docs/translation-calls.md: both legs
 * are routed to one replica).
 */
export class TranslationPairs extends Effect.Service<TranslationPairs>()("TranslationPairs", {
  sync: () => {
    const rooms = new Map<string, HeldRoom>()

    /** The room `roomId`, made on first use with `hooks` (its `ended` resolves the Deferred). */
    const enter = (roomId: string, languages: { readonly a: string; readonly b: string }, startedAt: Date, hooks: Omit<RoomHooks, "ended">) => {
      const held = rooms.get(roomId)
      if (held !== undefined) return { held, first: false }
      const ended = Deferred.unsafeMake<RoomEnding>(FiberId.none)
      const room = new TranslationRoom(roomId, languages, {
        ...hooks,
        ended: (reason, side, message) => void Deferred.unsafeDone(ended, Effect.succeed({ reason, side, message }))
      })
      const fresh: HeldRoom = {
        room,
        ended,
        identities: {},
        startedAt,
        wrapping: false,
        wrapped: Deferred.unsafeMake<void>(FiberId.none),
        recorded: {},
        leaving: {}
      }
      rooms.set(roomId, fresh)
      return { held: fresh, first: true }
    }

    /** True for the one leg that wraps the room up; it leaves this replica's map. */
    const claimWrapUp = (held: HeldRoom): boolean => {
      if (held.wrapping) return false
      held.wrapping = true
      rooms.delete(held.room.roomId)
      return true
    }

    return { enter, claimWrapUp, size: () => rooms.size } as const
  }
}) {}
