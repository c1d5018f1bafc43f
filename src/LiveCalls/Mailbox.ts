import { Deferred, Effect, Exit, FiberId, Queue } from "effect"
import { type CallCommand, type CommandResult, Refused } from "./Domain.js"

/** How anyone outside the call reaches it: a command in, the call's answer out. */
export interface CallHandle {
  readonly send: (command: CallCommand) => Effect.Effect<CommandResult>
}

interface Envelope {
  readonly command: CallCommand
  readonly reply: Deferred.Deferred<CommandResult>
}

const ended = new Refused({ reason: "the call has ended" })

/**
 * A call's inbox. `handle.send` may come from any fiber (an HTTP request, a future
 * cross-replica listener); `serve` runs on the call's own fiber and applies one command
 * at a time, so the bridge stays a single-threaded set of callbacks. Once closed, every
 * command waiting or still to come is refused; none is left without an answer.
 */
export const makeMailbox = Effect.gen(function*() {
  const queue = yield* Queue.unbounded<Envelope>()
  let open = true

  const handle: CallHandle = {
    send: (command) =>
      Effect.suspend(() => {
        const reply = Deferred.unsafeMake<CommandResult>(FiberId.none)
        // Checked and enqueued in one step: `close` cannot slip in between and miss it.
        return open && queue.unsafeOffer({ command, reply }) ? Deferred.await(reply) : Effect.succeed(ended)
      })
  }

  /** Applies commands as they arrive, until interrupted; a command taken is always answered. */
  const serve = (apply: (command: CallCommand) => Effect.Effect<CommandResult>) =>
    Effect.forever(
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(restore(Queue.take(queue)), ({ command, reply }) =>
          Effect.flatMap(apply(command), (result) => Deferred.succeed(reply, result)))
      )
    )

  const close = Effect.flatMap(
    Effect.sync(() => {
      open = false
    }),
    () =>
      Effect.flatMap(Queue.takeAll(queue), (left) =>
        Effect.forEach(left, ({ reply }) => Deferred.done(reply, Exit.succeed(ended)), { discard: true }))
  )

  return { handle, serve, close } as const
})
