import { HttpApi } from "@effect/platform"
import { AccessAdminApi, AccessApi } from "./Access/Api.js"
import { AgentsApi } from "./Agents/AgentsApi.js"
import { RolloutGovernanceApi } from "./Agents/GovernanceApi.js"
import { AgentRolloutsApi } from "./Agents/RolloutsApi.js"
import { PhoneNumberRoutesApi } from "./Agents/RoutesApi.js"
import { AdminAuthApi, TenantApiKeysApi } from "./Auth/Api.js"
import { FunctionRegistryApi } from "./Automations/Api.js"
import { CallLogsApi } from "./Calls/CallLogsApi.js"
import { CallsApi } from "./Calls/CallsApi.js"
import { TwilioWebhookDiagnosticsApi } from "./Calls/DiagnosticsApi.js"
import { AdminLiveSessionsApi, LiveSessionsApi } from "./Calls/LiveSessionsApi.js"
import { CallWebhooksApi, CallWebhooksSipApi } from "./Calls/WebhooksApi.js"
import { HealthApi } from "./Health/Api.js"
import { MediaApi } from "./Media/Api.js"
import { TenantsApi } from "./Tenants/Api.js"
import { TenantCacheApi } from "./Tenants/CacheApi.js"
import { VoiceEvalAutomationsApi } from "./VoiceRecords/EvalAutomationApi.js"
import { VoiceSessionEvalsApi } from "./VoiceRecords/EvalsApi.js"
import { VoiceOutcomesApi } from "./VoiceRecords/OutcomesApi.js"
import { VoiceSessionsApi } from "./VoiceRecords/SessionsApi.js"

/** What tenants, Twilio and prospects call: published as `/api-docs/public.json`. */
export class PublicApi extends HttpApi.make("public")
  .add(HealthApi)
  .add(AccessApi)
  .add(VoiceSessionsApi)
  .add(VoiceOutcomesApi)
  .add(VoiceSessionEvalsApi)
  .add(VoiceEvalAutomationsApi)
  .add(MediaApi)
  .add(CallWebhooksApi)
  .add(CallWebhooksSipApi)
  .add(CallsApi)
  .add(CallLogsApi)
  .add(FunctionRegistryApi)
  .add(LiveSessionsApi)
{}

/** Platform administration (x-admin-key or the admin session): `/api-docs/admin.json`. */
export class AdminApi extends HttpApi.make("admin")
  .add(AdminAuthApi)
  .add(TenantsApi)
  .add(TenantCacheApi)
  .add(TenantApiKeysApi)
  .add(AccessAdminApi)
  .add(AgentsApi)
  .add(AgentRolloutsApi)
  .add(PhoneNumberRoutesApi)
  .add(RolloutGovernanceApi)
  .add(TwilioWebhookDiagnosticsApi)
  .add(AdminLiveSessionsApi)
{}

/** The whole service: the server, the typed client (`HttpApiClient.make(Api)`) and `/api-docs/openapi.json`. */
export class Api extends HttpApi.make("api")
  .addHttpApi(PublicApi)
  .addHttpApi(AdminApi)
{}
