import { Effect } from "effect"

export interface LiveCall {
  readonly streamSid: string
  readonly tenantId: string
  readonly callSid: string | null
  readonly startedAt: Date
}

/**
 * The calls whose media sockets this replica holds, keyed by stream SID. The media
 * bridge registers a call for as long as its scope is open.
 */
export class LiveCalls extends Effect.Service<LiveCalls>()("LiveCalls", {
  sync: () => {
    const calls = new Map<string, LiveCall>()
    return {
      register: (call: LiveCall) => Effect.sync(() => void calls.set(call.streamSid, call)),
      unregister: (streamSid: string) => Effect.sync(() => void calls.delete(streamSid)),
      list: Effect.sync(() => [...calls.values()]),
      total: Effect.sync(() => calls.size),
      countForTenant: (tenantId: string) =>
        Effect.sync(() => {
          let count = 0
          for (const call of calls.values()) if (call.tenantId === tenantId) count++
          return count
        })
    } as const
  }
}) {}
