import { Layer } from "effect"
import { AccessRequests } from "./Access/AccessRequests.js"
import { AdminAuthLive, AdminSessionProbeLive } from "./Auth/AdminAuthLive.js"
import { AdminSessions } from "./Auth/AdminSessions.js"
import { ApiKeys } from "./Auth/ApiKeys.js"
import { DashboardTokens } from "./Auth/DashboardTokens.js"
import { RateLimiter } from "./Auth/RateLimit.js"
import { ServiceSecrets } from "./Auth/ServiceSecrets.js"
import { TenantAuthLive } from "./Auth/TenantAuthLive.js"
import { FunctionRegistry } from "./Automations/FunctionRegistry.js"
import { LiveCalls } from "./Calls/LiveCalls.js"
import { AppConfig } from "./Config.js"
import { DatabaseUrl, SqlLive } from "./Database/Client.js"
import { Migrations } from "./Database/Migrations.js"
import { Notifications } from "./Database/Notifications.js"
import { Lifecycle } from "./Health/Lifecycle.js"
import { Readiness } from "./Health/Readiness.js"
import { ServiceInfo } from "./Health/ServiceInfo.js"
import { Watchdog } from "./Health/Watchdog.js"
import { TenantCache } from "./Tenants/TenantCache.js"
import { Tenants } from "./Tenants/Tenants.js"

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
  LiveCalls.Default,
  FunctionRegistry.Default
)

const DomainLive = Layer.mergeAll(
  ApiKeys.Default,
  AdminSessions.Default,
  DashboardTokens.Default,
  AccessRequests.Default,
  Readiness.Default
).pipe(
  Layer.provideMerge(Layer.mergeAll(Tenants.Default, TenantCache.Default, RateLimiter.Default))
)

/** Every service the HTTP layer needs, including the authentication middleware. */
export const ServicesLive = Layer.mergeAll(TenantAuthLive, AdminAuthLive, AdminSessionProbeLive).pipe(
  Layer.provideMerge(DomainLive),
  Layer.provideMerge(ProcessLive),
  Layer.provideMerge(InfrastructureLive)
)
