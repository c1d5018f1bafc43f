import { Effect } from "effect"
import type { Listener } from "./Listeners.js"

/** A call running on this replica, as its listen-only legs find it. */
export interface MonitoredCall {
  readonly tenantId: string
  /** Starts hearing the call; false once it has ended. */
  readonly attach: (listener: Listener) => boolean
  readonly detach: (listener: Listener) => void
}

/**
 * The calls of this replica that listen-only legs can attach to, by stream SID. A leg's
 * stream is sent to the replica that holds its call (the leg is dialled from there), so
 * the lookup is local.
 */
export class CallMonitors extends Effect.Service<CallMonitors>()("CallMonitors", {
  sync: () => {
    const calls = new Map<string, MonitoredCall>()
    return {
      register: (streamSid: string, call: MonitoredCall) => void calls.set(streamSid, call),
      unregister: (streamSid: string) => void calls.delete(streamSid),
      find: (streamSid: string): MonitoredCall | undefined => calls.get(streamSid)
    } as const
  }
}) {}
