import { Applied, type CallCommand, type CommandResult, Refused } from "../LiveCalls/Domain.js"
import type { Bridge } from "./Bridge.js"

const applied = new Applied()
const alreadyEnded = new Refused({ reason: "the call has already ended" })

/**
 * A command from outside the call (LiveCalls), applied to its bridge. Runs on the call's
 * fiber, between the bridge's own callbacks, never inside one.
 */
export const applyCommand = (bridge: Bridge, command: CallCommand): CommandResult => {
  // Dialled by the call's monitor (Call.ts), never applied to the bridge itself.
  if (command._tag === "Listen") return new Refused({ reason: "this call cannot be monitored" })
  if (command._tag === "End") return bridge.finish("ended_by_command", null) ? applied : alreadyEnded
  const silenced = bridge.silenced
  if (command._tag === "Depart") {
    // Already leaving (end_call, a transfer): that ending stands. No agent yet: nobody to say it.
    if (bridge.departure.action !== undefined) return applied
    if (silenced !== undefined) return bridge.finish("ended_by_command", null) ? applied : alreadyEnded
    bridge.departure.take({ kind: "ended_by_command", reason: command.reason })
    bridge.say(command.text)
    return applied
  }
  if (silenced !== undefined) return new Refused({ reason: silenced })
  if (command._tag === "Inject") bridge.inject(command.text)
  else bridge.say(command.text)
  return applied
}
