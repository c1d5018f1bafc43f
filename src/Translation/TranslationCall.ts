import { Deferred, Effect, FiberSet, Option, Redacted } from "effect"
import { AppConfig } from "../Config.js"
import { callKey } from "../CallLogs/CallKey.js"
import { CallRecords, type CompletedCall } from "../CallLogs/CallRecords.js"
import { retryingRead, retryingWrite } from "../Database/Retry.js"
import type { StatementPart } from "../Database/StatementParts.js"
import { type BootstrapHandler, StreamRejected } from "../Media/Bootstrap.js"
import type { CallIdentity } from "../Media/CallIdentity.js"
import { MediaConfig } from "../Media/MediaConfig.js"
import { openRealtime, realtimeUrl, UpstreamUnavailable } from "../Media/RealtimeSocket.js"
import { agentSettings } from "../Media/SessionPlan.js"
import type { TwilioSocket } from "../Media/TwilioSocket.js"
import { TenantCache } from "../TenantCache/TenantCache.js"
import { twilioCredentials } from "../Twilio/Account.js"
import { TwilioClient } from "../Twilio/Client.js"
import { Applied, type CallCommand, type CommandResult, liveCallOf, Refused } from "../LiveCalls/Domain.js"
import { LiveCalls } from "../LiveCalls/LiveCalls.js"
import { interpreterSessionUpdate } from "./InterpreterPlan.js"
import { type Side, TranslationRooms } from "./Rooms.js"
import { TranslationConfig } from "./TranslationConfig.js"
import { type HeldRoom, type RoomEnding, TranslationPairs } from "./TranslationPairs.js"

const otherSide = (side: Side): Side => side === "a" ? "b" : "a"

/** Ending either leg ends the room; there is no agent to speak or be told anything. */
const applyToRoom = (held: HeldRoom, side: Side) => (command: CallCommand): CommandResult => {
  if (command._tag === "End" || command._tag === "Depart") {
    return held.room.finish("ended_by_command", side, null)
      ? new Applied()
      : new Refused({ reason: "the call has already ended" })
  }
  return new Refused({ reason: "a translation call has no agent to speak for" })
}

/**
 * One leg's media stream of a translation room (the start event named the room, and the
 * room lists this stream's token-vouched call). The leg joins the room this replica holds
 * for it, opens its own interpreter session, and waits for the room to end; the leg that
 * notices the end first wraps the room up: both sockets closed, the other party's call
 * hung up through Twilio's REST API, one call record written under participant A's call.
 */
export const runTranslationLeg = (twilio: TwilioSocket, boot: BootstrapHandler, id: CallIdentity, roomId: string) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const media = yield* MediaConfig
    const translation = yield* TranslationConfig
    const rooms = yield* TranslationRooms
    const pairs = yield* TranslationPairs
    const records = yield* CallRecords
    const twilioRest = yield* TwilioClient
    const clock = yield* Effect.clock
    const now = () => clock.unsafeCurrentTimeMillis()

    const callSid = id.callSid ?? ""
    const leg = yield* retryingRead(rooms.leg(id.tenantId, roomId, callSid), "5 seconds").pipe(
      Effect.flatMap(Option.match({
        onNone: () => Effect.fail(new StreamRejected({ message: "this call is not a leg of the named translation room, or the room has ended" })),
        onSome: Effect.succeed
      }))
    )
    const tenant = yield* retryingRead((yield* TenantCache).get(id.tenantId), "5 seconds").pipe(
      Effect.flatMap(Option.match({
        onNone: () => Effect.fail(new StreamRejected({ message: `unknown tenant ${id.tenantId}` })),
        onSome: Effect.succeed
      }))
    )
    const settings = agentSettings(tenant.config, undefined, config.openaiRealtimeModel)
    const apiKey = Option.match(config.openaiApiKey, { onNone: () => "", onSome: Redacted.value })
    const run = yield* FiberSet.makeRuntime<never>()

    const languages = leg.side === "a"
      ? { a: leg.language, b: leg.peerLanguage }
      : { a: leg.peerLanguage, b: leg.language }
    const { first, held } = pairs.enter(roomId, languages, new Date(now()), {
      now,
      warn: (message) => run(Effect.logWarning(message))
    })
    if (held.room.leg(leg.side) !== undefined || held.room.done) {
      return yield* new StreamRejected({ message: "this translation leg has already joined or its room has ended" })
    }
    held.identities[leg.side] = id
    const mine = held.room.join(leg.side, twilio, boot.audio)
    if (boot.endedEarly !== undefined) held.room.finish(boot.endedEarly, leg.side, null)

    // Each leg is a live call (listed, ended by command, reaped if this replica dies).
    const holding = yield* (yield* LiveCalls).hold(liveCallOf(callKey(id, null), {
      model: settings.model,
      voice: settings.voice,
      startedAt: new Date(now()),
      agentName: null,
      greeting: null,
      orgId: tenant.config.org_id ?? null
    }), applyToRoom(held, leg.side))
    held.recorded[leg.side] = holding.recorded
    // Both legs' rows go in the room's one record statement (a CTE name per leg).
    held.leaving[leg.side] = { ...holding.leaving, name: `${holding.leaving.name}_${leg.side}` }
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        held.room.finish("error", undefined, "the service stopped during the call")
        return pairs.claimWrapUp(held)
          ? wrapUp(held).pipe(Effect.ensuring(Deferred.succeed(held.wrapped, undefined)))
          : Effect.sync(() => {
            mine.upstream?.close()
            twilio.close(1000, "translation call ended")
          }).pipe(
            // The wrap-up marks this leg recorded too; leave the ledger only after it has tried.
            Effect.zipRight(Deferred.await(held.wrapped).pipe(Effect.timeout(`${media.recordRetrySeconds + 10} seconds`), Effect.ignore))
          )
      })
    )

    /** Both sockets closed, the other party hung up, the room's one record written. */
    const wrapUp = (room: HeldRoom) =>
      Effect.gen(function*() {
        room.room.close()
        const ending = yield* room.ended
        const calls = yield* rooms.leg(id.tenantId, roomId, callSid).pipe(Effect.option, Effect.map(Option.flatten))
        const sids = Option.match(calls, { onNone: () => ({ a: leg.callSidA, b: leg.callSidB }), onSome: (c) => ({ a: c.callSidA, b: c.callSidB }) })
        const toHangUp = ending.side === undefined ? [sids.a, sids.b] : [sids[otherSide(ending.side)]]
        yield* hangUp(toHangUp.filter((sid): sid is string => sid !== null))
        yield* record(room, ending, sids.a).pipe(
          (write) => retryingWrite(write, `${media.recordRetrySeconds} seconds`),
          // Both legs leave the ledger only once the room's record is written (else a reaper records them).
          Effect.zipRight(Effect.all([room.recorded.a ?? Effect.void, room.recorded.b ?? Effect.void], { discard: true })),
          Effect.catchAllCause((cause) => Effect.logError("translation call record not written", cause))
        )
        yield* rooms.ended(id.tenantId, roomId, ending.reason, new Date(now())).pipe(
          Effect.catchAll((error) => Effect.logWarning("translation room end not stored", error.message))
        )
      })

    const hangUp = (sids: ReadonlyArray<string>) =>
      Option.match(twilioCredentials(tenant.config, config), {
        onNone: () => Effect.logWarning("no Twilio credentials: the other translation leg cannot be hung up"),
        onSome: (credentials) =>
          Effect.forEach(sids, (sid) =>
            twilioRest.updateCall(credentials, sid, { status: "completed" }).pipe(
              Effect.timeout("5 seconds"),
              Effect.catchAll((error) => Effect.logWarning("could not hang up a translation leg", String(error)))
            ), { discard: true, concurrency: "unbounded" })
      })

    const record = (room: HeldRoom, ending: RoomEnding, callSidA: string | null) => {
      const identity = room.identities.a ?? room.identities.b ?? id
      const call: CompletedCall = {
        ...callKey(identity, null),
        callSid: room.identities.a?.callSid ?? callSidA ?? identity.callSid,
        model: settings.model,
        voice: settings.voice,
        startedAt: room.startedAt,
        endedAt: new Date(now()),
        endReason: ending.reason,
        errorMessage: ending.message,
        transcript: room.room.transcript,
        functionCalls: [],
        turnLatencies: [],
        escalated: false,
        escalationReason: null
      }
      const leaving = [room.leaving.a, room.leaving.b].filter((part): part is StatementPart => part !== undefined)
      return records.recordCompletedCall(call, leaving)
    }

    const openUpstream = (apiKey === ""
      ? Effect.fail(new UpstreamUnavailable({ message: "OPENAI_API_KEY is not configured" }))
      : openRealtime(realtimeUrl(config.openaiBaseUrl, settings.model), apiKey, media.upstreamConnectTimeoutMs)).pipe(
        Effect.withSpan("openai.realtime.connect", { kind: "client", attributes: { model: settings.model } }),
        Effect.match({
          onSuccess: (socket) =>
            mine.upstreamReady(socket, interpreterSessionUpdate(settings.model, settings.voice, leg.language, leg.peerLanguage)),
          onFailure: (error) => void held.room.finish("upstream_failure", leg.side, error.message)
        })
      )
    run(openUpstream)
    if (first) {
      run(Effect.delay(Effect.sync(() => {
        if (held.room.leg(otherSide(leg.side)) === undefined) {
          held.room.finish("error", undefined, "the other party's stream never joined this replica")
        }
      }), translation.joinTimeoutSeconds * 1000))
      run(Effect.delay(Effect.sync(() => held.room.finish("max_duration", undefined, null)), media.maxCallSeconds * 1000))
    }
    yield* holding.publish
    yield* Effect.logInfo("translation leg joined").pipe(Effect.annotateLogs({ room_id: roomId, side: leg.side }))
    yield* held.ended
  }).pipe(
    Effect.scoped,
    Effect.annotateLogs({ tenant_id: id.tenantId, stream_sid: id.streamSid, call_sid: id.callSid ?? "", translation_room: roomId }),
    Effect.withSpan("media.translation_leg", {
      kind: "server",
      root: true,
      attributes: { "call.sid": id.callSid ?? "", "stream.sid": id.streamSid, "tenant.id": id.tenantId, "translation.room": roomId }
    })
  )
