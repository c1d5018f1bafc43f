import * as HttpApi from "@effect/platform/HttpApi"
import { AccessAdminApi, AccessApi } from "./Access/Api.js"
import { AgentsApi } from "./Agents/Api.js"
import { RolloutGovernanceApi } from "./Governance/Api.js"
import { AgentRolloutsApi } from "./Rollouts/Api.js"
import { PhoneNumberRoutesApi } from "./PhoneRoutes/Api.js"
import { AdminAuthApi } from "./Auth/Api.js"
import { TenantApiKeysApi } from "./ApiKeys/Api.js"
import { FunctionRegistryApi } from "./Tools/Api.js"
import { CallLogsApi } from "./CallLogs/Api.js"
import { CallsApi } from "./Outbound/Api.js"
import { TwilioWebhookDiagnosticsApi } from "./Twilio/Diagnostics/Api.js"
import { AdminLiveSessionsApi, LiveSessionsApi } from "./LiveCalls/Api.js"
import { CallWebhooksApi, CallWebhooksSipApi } from "./Twilio/Api.js"
import { HealthApi } from "./Health/Api.js"
import { MediaApi } from "./Media/Api.js"
import { TenantsApi } from "./Tenants/Api.js"
import { TenantCacheApi } from "./TenantCache/Api.js"
import { EscalationAutomationsApi, VoiceEvalAutomationsApi, WorkflowAutomationsApi } from "./Automations/Api.js"
import { VoiceSessionEvalsApi } from "./VoiceEvals/Api.js"
import { VoiceOutcomesApi } from "./VoiceOutcomes/Api.js"
import { VoiceSessionsApi } from "./VoiceSessions/Api.js"
import { OperatorQueuesApi } from "./OperatorQueues/Api.js"
import { AdminCallbackTasksApi, CallbackTasksApi } from "./CallbackTasks/Api.js"
import { AdminSupervisorActionsApi, SupervisorActionsApi } from "./SupervisorActions/Api.js"
import { OperatorSweepsApi } from "./Sweeps/Api.js"
import { OutboxesApi } from "./Outbox/Api.js"
import { ConsoleApi } from "./Console/Api.js"
import { SessionActionsApi } from "./SessionActions/Api.js"
import { LogsApi } from "./LiveLogs/Api.js"

/** What tenants, Twilio and prospects call: published as `/api-docs/public.json`. */
export class PublicApi extends HttpApi.make("public")
  .add(HealthApi)
  .add(AccessApi)
  .add(VoiceSessionsApi)
  .add(VoiceOutcomesApi)
  .add(VoiceSessionEvalsApi)
  .add(VoiceEvalAutomationsApi)
  .add(EscalationAutomationsApi)
  .add(WorkflowAutomationsApi)
  .add(MediaApi)
  .add(CallWebhooksApi)
  .add(CallWebhooksSipApi)
  .add(CallsApi)
  .add(CallLogsApi)
  .add(FunctionRegistryApi)
  .add(LiveSessionsApi)
  .add(OperatorQueuesApi)
  .add(CallbackTasksApi)
  .add(SupervisorActionsApi)
  .add(SessionActionsApi)
  .add(LogsApi)
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
  .add(AdminCallbackTasksApi)
  .add(AdminSupervisorActionsApi)
  .add(OperatorSweepsApi)
  .add(OutboxesApi)
  .add(ConsoleApi)
{}

/** The whole service: the server, the typed client (`HttpApiClient.make(Api)`) and `/api-docs/openapi.json`. */
export class Api extends HttpApi.make("api")
  .addHttpApi(PublicApi)
  .addHttpApi(AdminApi)
{}
