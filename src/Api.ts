import { HttpApi } from "@effect/platform"
import { AccessAdminApi, AccessApi } from "./Access/Api.js"
import { AgentsApi } from "./Agents/AgentsApi.js"
import { RolloutGovernanceApi } from "./Agents/GovernanceApi.js"
import { AgentRolloutsApi } from "./Agents/RolloutsApi.js"
import { PhoneNumberRoutesApi } from "./Agents/RoutesApi.js"
import { AdminAuthApi, TenantApiKeysApi } from "./Auth/Api.js"
import { HealthApi } from "./Health/Api.js"
import { TenantCacheApi, TenantsApi } from "./Tenants/Api.js"
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
{}

/** The whole service: the server, the typed client (`HttpApiClient.make(Api)`) and `/api-docs/openapi.json`. */
export class Api extends HttpApi.make("api")
  .addHttpApi(PublicApi)
  .addHttpApi(AdminApi)
{}
