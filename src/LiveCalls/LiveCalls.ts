import { Effect } from "effect"

export interface LiveCall {
  readonly streamSid: string
  readonly tenantId: string
  readonly callSid: string | null
  readonly startedAt: Date
  /** What `GET /sessions` shows about the call, when the bridge knows it. */
  readonly callType?: "inbound" | "outbound"
  readonly customerPhone?: string | null
  readonly agentName?: string | null
  readonly greeting?: string | null
  readonly orgId?: string | null
  readonly escalated?: boolean
  readonly escalationTarget?: string | null
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
      /** Merges `patch` into a registered call (e.g. escalated); no-op when it has ended. */
      update: (streamSid: string, patch: Partial<Omit<LiveCall, "streamSid" | "tenantId">>) =>
        Effect.sync(() => {
          const current = calls.get(streamSid)
          if (current !== undefined) calls.set(streamSid, { ...current, ...patch })
        }),
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
