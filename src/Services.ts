import { Layer } from "effect"
import { EscalateCall } from "./Tools/EscalateCall.js"
import { TransferCallbacks } from "./Transfers/Callbacks.js"
import { TransfersRepo } from "./Transfers/Repo.js"
import { EscalationAutomations } from "./Automations/Escalation.js"
import { CallAnalysisWorker } from "./CallAnalysis/Worker.js"
import { AccessRequests } from "./Access/AccessRequests.js"
import { Agents } from "./Agents/Agents.js"
import { GovernanceSweep } from "./Governance/Sweep.js"
import { PhoneNumberRoutes } from "./PhoneRoutes/PhoneNumberRoutes.js"
import { RolloutGovernance } from "./Governance/RolloutGovernance.js"
import { Rollouts } from "./Rollouts/Rollouts.js"
import { VersionResolution } from "./Agents/VersionResolution.js"
import { AdminAuthLive, AdminSessionProbeLive } from "./Auth/AdminAuthLive.js"
import { AdminSessions } from "./Auth/AdminSessions.js"
import { ApiKeys } from "./ApiKeys/ApiKeys.js"
import { DashboardTokens } from "./Auth/DashboardTokens.js"
import { RateLimiter } from "./Auth/RateLimit.js"
import { ServiceSecrets } from "./Auth/ServiceSecrets.js"
import { TenantAuthLive } from "./Auth/TenantAuthLive.js"
import { StreamTokens } from "./Auth/StreamTokens.js"
import { CallLogs } from "./CallLogs/CallLogs.js"
import { LatencyPointsRefresh } from "./CallLogs/LatencyPointsRefresh.js"
import { CallLogsRepo } from "./CallLogs/Repo.js"
import { CallRecords } from "./CallLogs/CallRecords.js"
import { OutboundCalls } from "./Outbound/OutboundCalls.js"
import { Idempotency } from "./Outbound/Idempotency.js"
import { MachineAnswers } from "./Outbound/MachineAnswers.js"
import { FunctionRegistry } from "./Tools/FunctionRegistry.js"
import { Automations } from "./Automations/Automations.js"
import { HintCache } from "./Twilio/HintCache.js"
import { ResolutionCounters } from "./Twilio/ResolutionCounters.js"
import { TenantResolution } from "./Twilio/TenantResolution.js"
import { VoiceWebhooks } from "./Twilio/Webhooks.js"
import { LiveCalls } from "./LiveCalls/LiveCalls.js"
import { AppConfig } from "./Config.js"
import { GuardedHttpClient } from "./Egress/GuardedHttpClient.js"
import { OutboundUrls } from "./Egress/OutboundUrls.js"
import { DatabaseUrl, SqlLive } from "./Database/Client.js"
import { Migrations } from "./Database/Migrations.js"
import { Notifications } from "./Database/Notifications.js"
import { Lifecycle } from "./Health/Lifecycle.js"
import { Ids } from "./Ids.js"
import { Readiness } from "./Health/Readiness.js"
import { MediaStreamCredentialsLive } from "./Media/Credentials.js"
import { MediaStreams } from "./Media/MediaStreams.js"
import { ServiceInfo } from "./Health/ServiceInfo.js"
import { Watchdog } from "./Health/Watchdog.js"
import { TenantCache } from "./TenantCache/TenantCache.js"
import { Tenants } from "./Tenants/Tenants.js"
import { VoiceOutcomes } from "./VoiceOutcomes/VoiceOutcomes.js"
import { VoiceRecords } from "./VoiceSessions/VoiceRecords.js"
import { VoiceSessionEvals } from "./VoiceEvals/VoiceSessionEvals.js"
import { VoiceSessions } from "./VoiceSessions/VoiceSessions.js"
import { MetricsExport } from "./Observability/MetricsExport.js"
import { OperatorQueues } from "./OperatorQueues/OperatorQueues.js"
import { OperationsConfig } from "./OperatorQueues/Config.js"
import { CallbackTasks } from "./CallbackTasks/CallbackTasks.js"
import { TaskTransitions } from "./CallbackTasks/Transitions.js"
import { TaskEvents } from "./CallbackTasks/Events.js"
import { SupervisorActions } from "./SupervisorActions/SupervisorActions.js"
import { DispatchSweep } from "./Sweeps/DispatchSweep.js"
import { FollowUpSweep } from "./Sweeps/FollowUpSweep.js"
import { ReconciliationSweep } from "./Sweeps/ReconciliationSweep.js"
import { OperatorSweepsScheduled } from "./Sweeps/Scheduled.js"
import { SlaSweep } from "./Sweeps/SlaSweep.js"
import { OutboxWorker } from "./Outbox/Worker.js"
import { BillingOutboxRepo } from "./Outbox/BillingRepo.js"
import { BillingDelivery } from "./Outbox/BillingDelivery.js"
import { WebhookOutboxRepo } from "./Outbox/Repo.js"
import { WebhookOutbox } from "./Outbox/WebhookOutbox.js"
import { Limits } from "./Limits/Limits.js"
import { CallRouting } from "./LiveCalls/Routing.js"
import { SessionActions } from "./SessionActions/SessionActions.js"
import { TestCalls } from "./Console/TestCalls.js"
import { TranslationRooms } from "./Translation/Rooms.js"
import { TranslationPairs } from "./Translation/TranslationPairs.js"
import { TranslationConfig } from "./Translation/TranslationConfig.js"
import { AudioProviders } from "./Voices/AudioProviders.js"
import { ElevenLabsConfig } from "./Voices/Config.js"
import { LiveLogs } from "./LiveLogs/LiveLogs.js"
import { LiveLogsConfig } from "./LiveLogs/Config.js"

/** Configuration, PostgreSQL, the schema and where ids come from: what every domain stands on. */
export const InfrastructureLive = Layer.mergeAll(
  Migrations.Default,
  Notifications.Default,
  ServiceSecrets.Default,
  Ids.Default,
  OutboundUrls.Default,
  GuardedHttpClient.Default
).pipe(
  Layer.provideMerge(SqlLive),
  Layer.provideMerge(DatabaseUrl.layer),
  Layer.provideMerge(AppConfig.Default)
)

/** Process-local state: liveness, lifecycle. */
const ProcessLive = Layer.mergeAll(
  Watchdog.Default,
  Lifecycle.Default,
  ServiceInfo.Default
)

/** Agents, routing and voice records: other domains (calls, media) build on these. */
const AgentsLive = Layer.mergeAll(
  Agents.Default,
  Rollouts.Default,
  VersionResolution.Default,
  PhoneNumberRoutes.Default,
  VoiceRecords.Default,
  VoiceSessions.Default,
  VoiceOutcomes.Default,
  VoiceSessionEvals.Default,
  RolloutGovernance.Default,
  GovernanceSweep.Default
)

/**
 * Calls: Twilio webhooks, outbound calls, call records and logs, stream tokens, the
 * agent's tools and the live calls (which record the calls of a replica that died). One
 * hint cache and one set of resolution counters per replica, shared by resolution and the
 * admin endpoints.
 */
const CallsLive = Layer.mergeAll(
  VoiceWebhooks.Default,
  OutboundCalls.Default,
  Idempotency.Default,
  MachineAnswers.Default,
  CallLogs.Default,
  LatencyPointsRefresh.Default,
  CallLogsRepo.Default,
  FunctionRegistry.Default,
  SessionActions.Default,
  TestCalls.Default,
  EscalateCall.Default,
  TransfersRepo.Default,
  TransferCallbacks.Default,
  EscalationAutomations.Default,
  Automations.Default
).pipe(
  Layer.provideMerge(CallRouting.Default),
  Layer.provideMerge(Limits.Default),
  Layer.provideMerge(LiveCalls.Default),
  Layer.provideMerge(CallRecords.Default),
  Layer.provideMerge(Layer.mergeAll(TenantResolution.Default, StreamTokens.Default)),
  Layer.provideMerge(Layer.mergeAll(TranslationRooms.Default, TranslationPairs.Default, TranslationConfig.Default)),
  Layer.provideMerge(Layer.mergeAll(HintCache.Default, ResolutionCounters.Default))
)

/** Operator queues, callback tasks, the supervisor log: calls create tasks, so these come first. */
const OperationsLive = Layer.mergeAll(
  OperationsConfig.Default,
  OperatorQueues.Default,
  CallbackTasks.Default,
  TaskEvents.Default,
  TaskTransitions.Default,
  SupervisorActions.Default
)

/** The operator sweeps (auto-dispatch places calls, so they sit above the calls layer) and their schedules. */
const OperatorSweepsLive = OperatorSweepsScheduled.pipe(
  Layer.provideMerge(Layer.mergeAll(SlaSweep.Default, FollowUpSweep.Default, DispatchSweep.Default, ReconciliationSweep.Default))
)

const DomainLive = Layer.mergeAll(
  ApiKeys.Default,
  AdminSessions.Default,
  DashboardTokens.Default,
  AccessRequests.Default,
  Readiness.Default,
  Layer.provideMerge(OperatorSweepsLive, CallsLive),
  OutboxWorker.Default,
  CallAnalysisWorker.Default,
  BillingOutboxRepo.Default,
  BillingDelivery.Default,
  WebhookOutboxRepo.Default,
  WebhookOutbox.Default
).pipe(
  Layer.provideMerge(OperationsLive),
  Layer.provideMerge(AgentsLive),
  Layer.provideMerge(Layer.mergeAll(Tenants.Default, TenantCache.Default, RateLimiter.Default)),
  Layer.provideMerge(AudioProviders.Default.pipe(Layer.provideMerge(ElevenLabsConfig.Default))),
  // Calls and supervisor actions publish to the live log stream.
  Layer.provideMerge(Layer.merge(LiveLogs.Default, LiveLogsConfig.Default))
)

/** Every service the HTTP layer needs, including the authentication middleware. */
export const ServicesLive = Layer.mergeAll(
  TenantAuthLive,
  AdminAuthLive,
  AdminSessionProbeLive,
  MediaStreamCredentialsLive,
  MediaStreams.Default,
  MetricsExport.Default
).pipe(
  Layer.provideMerge(DomainLive),
  Layer.provideMerge(ProcessLive),
  Layer.provideMerge(InfrastructureLive)
)
