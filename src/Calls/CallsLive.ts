import { Layer } from "effect"
import { StreamTokens } from "../Auth/StreamTokens.js"
import { FunctionRegistry } from "../Automations/FunctionRegistry.js"
import { CallLogs } from "./CallLogs.js"
import { CallLogsRepo } from "./CallLogsRepo.js"
import { CallRecords } from "./CallRecords.js"
import { HintCache } from "./HintCache.js"
import { OutboundCalls } from "./OutboundCalls.js"
import { ResolutionCounters } from "./ResolutionCounters.js"
import { TenantResolution } from "./TenantResolution.js"
import { VoiceWebhooks } from "./VoiceWebhooks.js"

/**
 * Calls: webhooks, outbound calls, call records and logs, stream tokens and the agent's
 * tools. Needs the tenant, agent and voice-record services and this replica's LiveCalls.
 */
export const CallsLive = Layer.mergeAll(
  VoiceWebhooks.Default,
  OutboundCalls.Default,
  CallLogs.Default,
  CallLogsRepo.Default,
  CallRecords.Default,
  FunctionRegistry.Default
).pipe(
  Layer.provideMerge(Layer.mergeAll(TenantResolution.Default, StreamTokens.Default)),
  // One hint cache and one set of counters per replica, shared by resolution and the admin endpoints.
  Layer.provideMerge(Layer.mergeAll(HintCache.Default, ResolutionCounters.Default))
)
