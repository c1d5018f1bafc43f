import * as Headers from "@effect/platform/Headers"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Effect, FiberRef, Layer } from "effect"
import { AccessAdminHttp, AccessHttp } from "./Access/Http.js"
import { AgentsHttp } from "./Agents/Http.js"
import { RolloutGovernanceHttp } from "./Governance/Http.js"
import { AgentRolloutsHttp } from "./Rollouts/Http.js"
import { PhoneNumberRoutesHttp } from "./PhoneRoutes/Http.js"
import { Api } from "./Api.js"
import { TenantApiKeysHttp } from "./ApiKeys/Http.js"
import { AdminAuthHttp } from "./Auth/Http.js"
import { FunctionRegistryHttp } from "./Tools/Http.js"
import { WorkflowAutomationsHttp } from "./Automations/WorkflowsHttp.js"
import { CallLogsHttp } from "./CallLogs/Http.js"
import { CallsHttp } from "./Outbound/Http.js"
import { TwilioWebhookDiagnosticsHttp } from "./Twilio/Diagnostics/Http.js"
import { AdminLiveSessionsHttp, LiveSessionsHttp } from "./LiveCalls/Http.js"
import { CallWebhooksHttp, CallWebhooksSipHttp } from "./Twilio/Http.js"
import { ConsoleHttp } from "./Console/Http.js"
import { ConsoleRoutesLive } from "./Console/Routes.js"
import { DocsRoutesLive } from "./Docs/Routes.js"
import { HealthHttp } from "./Health/Http.js"
import { makeEdge, withEdgeHeaders } from "./Http/Edge.js"
import { HotReadsLive } from "./Http/HotReads.js"
import { RouterContextLive, serveWithRequestContext } from "./Http/ServerContext.js"
import { HotWebhookLive } from "./Twilio/HotWebhook.js"
import { PlainWebhookLive } from "./Twilio/PlainWebhook.js"
import { PlainUpgradeLive } from "./Media/PlainUpgrade.js"
import { EdgeStateLive } from "./Http/EdgeState.js"
import { HotUpgradeLive } from "./Media/HotUpgrade.js"
import { ErrorBoundaryLive } from "./Http/ErrorBoundary.js"
import { MediaHttp } from "./Media/Http.js"
import { TenantCacheHttp } from "./TenantCache/Http.js"
import { TenantsHttp } from "./Tenants/Http.js"
import { VoiceSessionEvalsHttp } from "./VoiceEvals/Http.js"
import { VoiceEvalAutomationsHttp } from "./Automations/Http.js"
import { EscalationAutomationsHttp } from "./Automations/EscalationHttp.js"
import { VoiceOutcomesHttp } from "./VoiceOutcomes/Http.js"
import { VoiceSessionsHttp } from "./VoiceSessions/Http.js"
import { MetricsRoutesLive } from "./Observability/Routes.js"
import { OperatorQueuesHttp } from "./OperatorQueues/Http.js"
import { AdminCallbackTasksHttp, CallbackTasksHttp } from "./CallbackTasks/Http.js"
import { AdminSupervisorActionsHttp, SupervisorActionsHttp } from "./SupervisorActions/Http.js"
import { SessionActionsHttp } from "./SessionActions/Http.js"
import { OperatorSweepsHttp } from "./Sweeps/Http.js"
import { OutboxesHttp } from "./Outbox/Http.js"
import { TransferRoutesLive } from "./Transfers/Routes.js"
import { LogsHttp } from "./LiveLogs/Http.js"
import { OutboundCallbackRoutesLive } from "./Outbound/CallbackRoutes.js"

/** Every group's handlers behind the one HttpApi. */
export const ApiLive = HttpApiBuilder.api(Api).pipe(
  Layer.provide([
    HealthHttp,
    AccessHttp,
    AccessAdminHttp,
    TenantsHttp,
    TenantCacheHttp,
    AdminAuthHttp,
    TenantApiKeysHttp,
    AgentsHttp,
    AgentRolloutsHttp,
    PhoneNumberRoutesHttp,
    RolloutGovernanceHttp,
    VoiceSessionsHttp,
    VoiceOutcomesHttp,
    VoiceSessionEvalsHttp,
    VoiceEvalAutomationsHttp,
    EscalationAutomationsHttp,
    MediaHttp,
    CallWebhooksHttp,
    CallWebhooksSipHttp,
    CallsHttp,
    CallLogsHttp,
    FunctionRegistryHttp,
    WorkflowAutomationsHttp,
    LiveSessionsHttp,
    AdminLiveSessionsHttp,
    TwilioWebhookDiagnosticsHttp,
    OperatorQueuesHttp,
    CallbackTasksHttp,
    AdminCallbackTasksHttp,
    SupervisorActionsHttp,
    AdminSupervisorActionsHttp,
    SessionActionsHttp,
    OperatorSweepsHttp,
    OutboxesHttp,
    ConsoleHttp,
    LogsHttp
  ])
)

/** Credentials that must never become span attributes (header names are matched lowercase). */
const SECRET_HEADERS = ["authorization", "cookie", "set-cookie", "x-api-key", "x-admin-key", "x-twilio-signature"]

/** Probes are noise and the media socket lives for a whole call (and carries a token in its query). */
const untraced = (request: HttpServerRequest.HttpServerRequest) =>
  request.url.startsWith("/health/") || request.url.startsWith("/media-stream")

/** Request spans only when something exports them (src/Telemetry.ts turns tracing off otherwise). */
const withRequestSpans = <A, E, R>(layer: Layer.Layer<A, E, R>) =>
  Layer.unwrapEffect(Effect.map(FiberRef.get(FiberRef.currentTracerEnabled), (enabled) =>
    HttpMiddleware.withTracerDisabledWhen(layer, enabled ? untraced : () => true)))

/**
 * The HTTP server: the Api, the docs routes, the error boundary, the hot reads, the incoming-call
 * webhook and the media upgrade (below HttpApi) and the edge middleware. Needs an `HttpServer`.
 * Request fibers start with their request and scope only; the router gets the app's services
 * back (src/Http/ServerContext.ts).
 */
export const HttpLive = Layer.unwrapEffect(Effect.map(makeEdge, (edge) => serveWithRequestContext(edge))).pipe(
  Layer.provide(DocsRoutesLive),
  Layer.provide(ConsoleRoutesLive),
  Layer.provide(MetricsRoutesLive),
  Layer.provide(TransferRoutesLive),
  Layer.provide(OutboundCallbackRoutesLive),
  // Built after the boundary, so added later: they run in front of it and answer their own failures.
  Layer.provide(HotUpgradeLive),
  Layer.provide(HotWebhookLive),
  Layer.provide(HotReadsLive),
  Layer.provide(ErrorBoundaryLive),
  // Built first of the middlewares, so innermost: right around the router.
  Layer.provide(RouterContextLive),
  Layer.provide(ApiLive),
  HttpServer.withLogAddress,
  // The webhook and the media upgrade served off node's own events, beside the fibers' path; all share the edge's counts.
  Layer.merge(PlainWebhookLive),
  Layer.merge(PlainUpgradeLive),
  Layer.provide(EdgeStateLive),
  withEdgeHeaders,
  withRequestSpans,
  Layer.locally(Headers.currentRedactedNames, SECRET_HEADERS)
)
