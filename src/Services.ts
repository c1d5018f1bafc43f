import { Layer } from "effect"
import { AccessRequests } from "./Access/AccessRequests.js"
import { Agents } from "./Agents/Agents.js"
import { GovernanceSweep } from "./Agents/GovernanceSweep.js"
import { PhoneNumberRoutes } from "./Agents/PhoneNumberRoutes.js"
import { RolloutGovernance } from "./Agents/RolloutGovernance.js"
import { Rollouts } from "./Agents/Rollouts.js"
import { VersionResolution } from "./Agents/VersionResolution.js"
import { AdminAuthLive, AdminSessionProbeLive } from "./Auth/AdminAuthLive.js"
import { AdminSessions } from "./Auth/AdminSessions.js"
import { ApiKeys } from "./Auth/ApiKeys.js"
import { DashboardTokens } from "./Auth/DashboardTokens.js"
import { RateLimiter } from "./Auth/RateLimit.js"
import { ServiceSecrets } from "./Auth/ServiceSecrets.js"
import { TenantAuthLive } from "./Auth/TenantAuthLive.js"
import { CallsLive } from "./Calls/CallsLive.js"
import { LiveCalls } from "./Calls/LiveCalls.js"
import { AppConfig } from "./Config.js"
import { DatabaseUrl, SqlLive } from "./Database/Client.js"
import { Migrations } from "./Database/Migrations.js"
import { Notifications } from "./Database/Notifications.js"
import { Lifecycle } from "./Health/Lifecycle.js"
import { Readiness } from "./Health/Readiness.js"
import { MediaStreamCredentialsLive } from "./Media/Credentials.js"
import { MediaStreams } from "./Media/MediaStreams.js"
import { ServiceInfo } from "./Health/ServiceInfo.js"
import { Watchdog } from "./Health/Watchdog.js"
import { TenantCache } from "./Tenants/TenantCache.js"
import { Tenants } from "./Tenants/Tenants.js"
import { VoiceOutcomes } from "./VoiceRecords/VoiceOutcomes.js"
import { VoiceRecords } from "./VoiceRecords/VoiceRecords.js"
import { VoiceSessionEvals } from "./VoiceRecords/VoiceSessionEvals.js"
import { VoiceSessions } from "./VoiceRecords/VoiceSessions.js"

/** Configuration, PostgreSQL and the schema: what every domain stands on. */
export const InfrastructureLive = Layer.mergeAll(Migrations.Default, Notifications.Default, ServiceSecrets.Default).pipe(
  Layer.provideMerge(SqlLive),
  Layer.provideMerge(DatabaseUrl.layer),
  Layer.provideMerge(AppConfig.Default)
)

/** Process-local state: liveness, lifecycle, the calls this replica holds. */
const ProcessLive = Layer.mergeAll(
  Watchdog.Default,
  Lifecycle.Default,
  ServiceInfo.Default,
  LiveCalls.Default
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

const DomainLive = Layer.mergeAll(
  ApiKeys.Default,
  AdminSessions.Default,
  DashboardTokens.Default,
  AccessRequests.Default,
  Readiness.Default,
  CallsLive
).pipe(
  Layer.provideMerge(AgentsLive),
  Layer.provideMerge(Layer.mergeAll(Tenants.Default, TenantCache.Default, RateLimiter.Default))
)

/** Every service the HTTP layer needs, including the authentication middleware. */
export const ServicesLive = Layer.mergeAll(
  TenantAuthLive,
  AdminAuthLive,
  AdminSessionProbeLive,
  MediaStreamCredentialsLive,
  MediaStreams.Default
).pipe(
  Layer.provideMerge(DomainLive),
  Layer.provideMerge(ProcessLive),
  Layer.provideMerge(InfrastructureLive)
)
