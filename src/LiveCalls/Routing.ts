import { Config, Deferred, Duration, Effect, FiberId, FiberSet, Option, Schema } from "effect"
import { Notifications } from "../Database/Notifications.js"
import { Ids } from "../Ids.js"
import { CallCommand, type CommandResult, commandChannel, CommandResult as CommandResultSchema } from "./Domain.js"
import { CommandTooLarge, LiveCallGone, LiveCallNotFound, LiveCallOwnerSilent } from "./Errors.js"
import { LiveCalls } from "./LiveCalls.js"

/** The owner no longer holds the call (it ended between the ledger read and the command). */
class NotHere extends Schema.TaggedClass<NotHere>()("NotHere", {}) {}

const RoutedCommand = Schema.TaggedStruct("Command", {
  id: Schema.String,
  replyTo: Schema.String,
  tenantId: Schema.String,
  streamSid: Schema.String,
  command: CallCommand
})
const RoutedReply = Schema.TaggedStruct("Reply", {
  id: Schema.String,
  result: Schema.Union(CommandResultSchema, NotHere)
})
type RoutedResult = typeof RoutedReply.Type["result"]

/** Where the ledger says a call runs. */
export interface Located {
  readonly replica_id: string
  readonly stale: boolean
}

/** What travels on a replica's channel: a command for one of its calls, or the answer to one it sent. */
const Routed = Schema.parseJson(Schema.Union(RoutedCommand, RoutedReply))
const encode = Schema.encode(Routed)
const decode = Schema.decodeUnknown(Routed)

/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; Notifications adds a 37-byte origin. */
export const MAX_PAYLOAD_BYTES = 7_900

/** Correlation ids are UUIDs: one of the same length sizes a payload before it is sent. */
const SAMPLE_ID = "00000000-0000-0000-0000-000000000000"

/**
 * Commands reach a call wherever it runs. The ledger names the replica that holds the call;
 * a command for a call held elsewhere is sent on that replica's channel (`commandChannel`)
 * with a correlation id and the sender's own channel; the owner applies it on the call's
 * fiber (its mailbox) and answers on the sender's channel. The sender waits a bounded time:
 * a replica that stopped beating is not asked at all (404), one that does not answer in
 * time is a 503, never a hang.
 */
export class CallRouting extends Effect.Service<CallRouting>()("CallRouting", {
  scoped: Effect.gen(function*() {
    const liveCalls = yield* LiveCalls
    const notifications = yield* Notifications
    const ids = yield* Ids
    const timeoutMs = yield* Config.integer("LIVE_CALL_COMMAND_TIMEOUT_MS").pipe(
      Config.withDefault(3_000),
      Config.validate({ message: "LIVE_CALL_COMMAND_TIMEOUT_MS must be a positive integer", validation: (n) => n > 0 })
    )
    const own = commandChannel(liveCalls.replicaId)
    const pending = new Map<string, Deferred.Deferred<RoutedResult>>()

    const reply = (to: string, id: string, result: RoutedResult) =>
      encode({ _tag: "Reply", id, result }).pipe(
        Effect.flatMap((payload) => notifications.notify(to, payload)),
        Effect.catchAll((error) => Effect.logWarning("could not answer a routed command", error.message))
      )

    const received = (payload: string) =>
      decode(payload).pipe(
        Effect.flatMap((message) => {
          if (message._tag === "Reply") {
            const waiting = pending.get(message.id)
            return waiting === undefined ? Effect.void : Deferred.succeed(waiting, message.result)
          }
          return liveCalls.command(message.streamSid, message.command, message.tenantId).pipe(
            Effect.catchTag("LiveCallNotFound", () => Effect.succeed(new NotHere())),
            Effect.flatMap((result) => reply(message.replyTo, message.id, result))
          )
        }),
        Effect.catchAll((error) => Effect.logWarning("unreadable message on the live call channel", error.message))
      )

    // Commands for different calls do not wait for each other; each call's mailbox orders its own.
    const run = yield* FiberSet.makeRuntime<never>()
    const inFlight = yield* Effect.makeSemaphore(64)
    yield* notifications.on(own, (event) => {
      if (event._tag === "Message") run(inFlight.withPermits(1)(received(event.payload)))
    })

    const remote = (replicaId: string, payload: string, id: string, streamSid: string) =>
      Effect.gen(function*() {
        const answer = Deferred.unsafeMake<RoutedResult>(FiberId.none)
        pending.set(id, answer)
        yield* notifications.notify(commandChannel(replicaId), payload)
        return yield* Deferred.await(answer).pipe(
          Effect.timeoutFail({
            duration: Duration.millis(timeoutMs),
            onTimeout: () => new LiveCallOwnerSilent({ streamSid, timeoutMs })
          })
        )
      }).pipe(Effect.ensuring(Effect.sync(() => pending.delete(id))))

    /** Fails when `command` could not travel to another replica: checked wherever the call runs, before anything is done. */
    const fits = (tenantId: string, streamSid: string, command: CallCommand) =>
      encode({ _tag: "Command", id: SAMPLE_ID, replyTo: own, tenantId, streamSid, command }).pipe(
        Effect.orDie,
        Effect.flatMap((payload) => {
          const bytes = Buffer.byteLength(payload)
          return bytes > MAX_PAYLOAD_BYTES ? Effect.fail(new CommandTooLarge({ bytes, limit: MAX_PAYLOAD_BYTES })) : Effect.void
        })
      )

    /**
     * Sends `command` to a tenant's call, already `located` in the ledger, on whichever replica
     * runs it and returns the call's answer (`Applied` or `Refused`).
     */
    const deliver = Effect.fn("CallRouting.deliver")(
      function*(tenantId: string, streamSid: string, located: Located, command: CallCommand) {
        yield* fits(tenantId, streamSid, command)
        const id = yield* ids.uuid
        const payload = yield* encode({ _tag: "Command", id, replyTo: own, tenantId, streamSid, command }).pipe(Effect.orDie)
        if (located.stale) return yield* new LiveCallGone({ streamSid })
        if (located.replica_id === liveCalls.replicaId) return yield* liveCalls.command(streamSid, command, tenantId)
        const result = yield* remote(located.replica_id, payload, id, streamSid)
        if (result._tag === "NotHere") return yield* new LiveCallNotFound({ streamSid })
        return result satisfies CommandResult
      }
    )

    /** Looks the call up in the ledger, then `deliver`s. */
    const send = (tenantId: string, streamSid: string, command: CallCommand) =>
      liveCalls.locate(tenantId, streamSid).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(new LiveCallNotFound({ streamSid })),
          onSome: (located) => deliver(tenantId, streamSid, located, command)
        }))
      )

    return { send, deliver, fits, timeoutMs } as const
  }),
  dependencies: [Ids.Default]
}) {}
