import { Config, type ConfigError, Effect, Option, Redacted } from "effect"
import { atLeast, positiveInt } from "./ConfigIntegers.js"
import { availableParallelism } from "node:os"
import { parseTrustProxy } from "./Http/TrustProxy.js"

/** An optional setting where an empty value means "unset" (as shells often export `X=`). */
const optionalString = (name: string) =>
  Config.option(Config.string(name)).pipe(Config.map(Option.filter((value) => value.trim() !== "")))

const optionalSecret = (name: string) =>
  Config.option(Config.redacted(name)).pipe(
    Config.map(Option.filter((value) => Redacted.value(value).trim() !== ""))
  )

const baseUrl = (name: string, fallback: string) =>
  Config.string(name).pipe(
    Config.withDefault(fallback),
    Config.validate({
      message: `${name} must be an absolute http(s) URL`,
      validation: (value) => /^https?:\/\/[^\s/]+/.test(value)
    }),
    Config.map((value) => value.replace(/\/+$/, ""))
  )

/** SERVICE_WORKERS: `auto` (one per available core) or a whole number of replicas in this process tree. */
export const parseServiceWorkers = (value: string): number | undefined => {
  const text = value.trim().toLowerCase()
  if (text === "auto") return availableParallelism()
  if (!/^\d+$/.test(text)) return undefined
  const n = Number(text)
  return n >= 1 && n <= 64 ? n : undefined
}

/** Every environment setting of the service, read once (DESIGN.md, "Configuration"). */
export class AppConfig extends Effect.Service<AppConfig>()("AppConfig", {
  effect: Effect.gen(function*() {
    const port = yield* Config.port("PORT").pipe(Config.withDefault(5050))
    const host = yield* Config.string("HOST").pipe(Config.withDefault("0.0.0.0"))
    const adminApiKey = yield* optionalSecret("ADMIN_API_KEY")
    const adminUsername = yield* optionalString("ADMIN_USERNAME")
    const adminPassword = yield* optionalSecret("ADMIN_PASSWORD")
    const adminPasswordSha256 = yield* optionalSecret("ADMIN_PASSWORD_SHA256")
    // Set by the primary for its workers only (Cluster/Supervisor.ts): 1..SERVICE_WORKERS.
    const workerSlot = yield* Config.integer("SERVICE_WORKER_SLOT").pipe(Config.withDefault(1))
    const adminLoginEnabled = Option.isSome(adminUsername) &&
      (Option.isSome(adminPassword) || Option.isSome(adminPasswordSha256))
    return {
      port,
      host,
      /** Replicas `node dist/main.js` runs as workers of one primary (src/Cluster/Primary.ts); 1 = this process serves. */
      serviceWorkers: yield* Config.string("SERVICE_WORKERS").pipe(
        Config.withDefault("1"),
        Config.validate({
          message: "SERVICE_WORKERS must be auto or a whole number from 1 to 64 (replicas in this process tree)",
          validation: (value) => parseServiceWorkers(value) !== undefined
        }),
        Config.map((value) => parseServiceWorkers(value)!)
      ),
      publicBaseUrl: yield* baseUrl("PUBLIC_BASE_URL", `http://localhost:${port}`),
      databaseUrl: yield* optionalSecret("DATABASE_URL"),
      /**
       * PostgreSQL connections this replica's pool may open (plus one for LISTEN). Every replica
       * has its own pool: N replicas need N x (this + 1) under the server's max_connections.
       */
      databasePoolMax: yield* Config.integer("DATABASE_POOL_MAX").pipe(
        Config.withDefault(10),
        Config.validate({
          message: "DATABASE_POOL_MAX must be a whole number from 1 to 100 (connections per replica)",
          validation: (n) => n >= 1 && n <= 100
        })
      ),
      /** Unset: `.data/postgres` (as root, moved where the postgres account can reach it). */
      embeddedDataDir: yield* optionalString("EMBEDDED_PG_DATA_DIR"),
      adminApiKey,
      adminUsername,
      adminPassword,
      adminPasswordSha256,
      adminLoginEnabled,
      /** Admin endpoints exist only when an admin key or a browser login is configured. */
      adminEnabled: Option.isSome(adminApiKey) || adminLoginEnabled,
      legacyTenantBearerAuthEnabled: yield* Config.boolean("LEGACY_TENANT_BEARER_AUTH_ENABLED").pipe(
        Config.withDefault(true)
      ),
      streamTokenSecret: yield* optionalSecret("STREAM_TOKEN_SECRET"),
      streamTokenSecretPrevious: yield* optionalSecret("STREAM_TOKEN_SECRET_PREVIOUS"),
      streamTokenTtlSecs: yield* positiveInt("STREAM_TOKEN_TTL_SECS", 60),
      openaiApiKey: yield* optionalSecret("OPENAI_API_KEY"),
      openaiBaseUrl: yield* baseUrl("OPENAI_BASE_URL", "https://api.openai.com/v1"),
      openaiRealtimeModel: yield* Config.string("OPENAI_REALTIME_MODEL").pipe(Config.withDefault("gpt-realtime")),
      twilioAccountSid: yield* optionalString("TWILIO_ACCOUNT_SID"),
      twilioAuthToken: yield* optionalSecret("TWILIO_AUTH_TOKEN"),
      twilioFromNumber: yield* optionalString("TWILIO_FROM_NUMBER"),
      twilioApiBaseUrl: yield* baseUrl("TWILIO_API_BASE_URL", "https://api.twilio.com"),
      elevenlabsApiKey: yield* optionalSecret("ELEVENLABS_API_KEY"),
      elevenlabsBaseUrl: yield* baseUrl("ELEVENLABS_BASE_URL", "https://api.elevenlabs.io"),
      rateLimitPerIpPerMinute: yield* positiveInt("RATE_LIMIT_PER_IP_PER_MINUTE", 60),
      rateLimitPerTenantPerMinute: yield* positiveInt("RATE_LIMIT_PER_TENANT_PER_MINUTE", 1000),
      otelExporterOtlpEndpoint: yield* optionalString("OTEL_EXPORTER_OTLP_ENDPOINT"),
      /** Seconds between scheduled rollout-governance sweeps on each replica; 0 turns them off. */
      rolloutGovernanceSweepIntervalSecs: yield* Config.integer("ROLLOUT_GOVERNANCE_SWEEP_INTERVAL_SECS").pipe(
        Config.withDefault(300),
        Config.validate({ message: "ROLLOUT_GOVERNANCE_SWEEP_INTERVAL_SECS must be 0 or more", validation: (n) => n >= 0 })
      ),
      /** Largest request body read (JSON, forms); larger is 413. */
      httpBodyLimitBytes: yield* positiveInt("HTTP_BODY_LIMIT_BYTES", 1_048_576),
      /** A body not fully received in this time is 408. */
      httpBodyTimeoutMs: yield* positiveInt("HTTP_BODY_TIMEOUT_MS", 10_000),
      /** Deepest JSON nesting accepted in a request body; deeper is 400. */
      httpJsonMaxDepth: yield* positiveInt("HTTP_JSON_MAX_DEPTH", 32),
      /** Node server: headers must arrive within this, and a whole request within HTTP_REQUEST_TIMEOUT_MS. */
      httpHeadersTimeoutMs: yield* positiveInt("HTTP_HEADERS_TIMEOUT_MS", 10_000),
      httpRequestTimeoutMs: yield* positiveInt("HTTP_REQUEST_TIMEOUT_MS", 30_000),
      /**
       * Connections the kernel queues for the listener before the process accepts them (node's
       * default is 511). A burst of calls overflows a short queue while the event loop is busy:
       * each connection dropped is retried by its client 1 s, then 3 s later. The kernel caps it
       * at net.core.somaxconn, which a deployment must raise to match.
       */
      httpListenBacklog: yield* positiveInt("HTTP_LISTEN_BACKLOG", 4096),
      /** Which proxies' X-Forwarded-For / Forwarded to believe: off, a hop count, or CIDRs (see Http/TrustProxy.ts). */
      trustProxy: yield* Config.string("TRUST_PROXY").pipe(
        Config.withDefault("off"),
        Config.validate({
          message: "TRUST_PROXY must be off, a hop count, or a comma-separated list of addresses/CIDRs",
          validation: (value) => parseTrustProxy(value) !== undefined
        }),
        Config.map((value) => parseTrustProxy(value)!)
      ),
      /** Requests one client address may have in flight at once; more is 429. */
      maxConcurrentRequestsPerAddress: yield* positiveInt("MAX_CONCURRENT_REQUESTS_PER_ADDRESS", 64),
      shutdownGraceSeconds: yield* Config.integer("SHUTDOWN_GRACE_SECONDS").pipe(
        Config.withDefault(5),
        Config.validate({ message: "SHUTDOWN_GRACE_SECONDS must be 0 or more", validation: (n) => n >= 0 })
      ),
      /**
       * `GET /metrics` (OpenMetrics) on its own listener on this port; unset = not served there.
       * Worker k of SERVICE_WORKERS listens on METRICS_PORT + k - 1, so each scrape target is one replica.
       */
      metricsPort: Option.map(yield* Config.option(Config.port("METRICS_PORT")), (first) => first + workerSlot - 1),
      /** `GET /metrics` on the main port too, behind the admin key (when METRICS_PORT is unset). */
      metricsEnabled: yield* Config.boolean("METRICS_ENABLED").pipe(Config.withDefault(false)),
      /** On SIGTERM, how long live calls may run on before the agent says goodbye and ends them. */
      shutdownCallDrainSeconds: yield* Config.integer("SHUTDOWN_CALL_DRAIN_SECONDS").pipe(
        Config.withDefault(1800),
        Config.validate({ message: "SHUTDOWN_CALL_DRAIN_SECONDS must be 0 or more", validation: (n) => n >= 0 })
      ),
      /** HTTP requests served at once; more are answered 503 + Retry-After instead of queueing (memory, latency). */
      httpMaxInFlight: yield* positiveInt("HTTP_MAX_IN_FLIGHT", 256),
      /** Cost and abuse limits (docs/limits.md): platform defaults a tenant's `limits` overrides. */
      maxCallsPerReplica: yield* positiveInt("MAX_CALLS_PER_REPLICA", 200),
      /** Inbound webhooks a replica answers at once; past it a caller hears the busy message at once (docs/limits.md). */
      maxCallSetupsInFlight: yield* positiveInt("MAX_CALL_SETUPS_IN_FLIGHT", 32),
      tenantMaxConcurrentCalls: yield* positiveInt("TENANT_MAX_CONCURRENT_CALLS", 20),
      tenantOutboundCallsPerMinute: yield* positiveInt("TENANT_OUTBOUND_CALLS_PER_MINUTE", 30),
      tenantOutboundCallsPerDay: yield* positiveInt("TENANT_OUTBOUND_CALLS_PER_DAY", 1000),
      tenantSmsPerMinute: yield* positiveInt("TENANT_SMS_PER_MINUTE", 30),
      tenantSmsPerDay: yield* positiveInt("TENANT_SMS_PER_DAY", 1000),
      /** 0: no monthly minute budget unless the tenant sets one. */
      tenantMonthlyCallMinutes: yield* Config.integer("TENANT_MONTHLY_CALL_MINUTES").pipe(
        Config.withDefault(0),
        Config.validate({ message: "TENANT_MONTHLY_CALL_MINUTES must be 0 or more", validation: (n) => n >= 0 })
      ),
      callAdmissionTtlSecs: yield* positiveInt("CALL_ADMISSION_TTL_SECS", 90),
      /**
       * Inbound admissions a replica reserves ahead per tenant taking calls, so a webhook is
       * answered with no statement on its path (Limits/AdmissionsAhead.ts); 0 = off.
       */
      callAdmissionsAhead: yield* atLeast("CALL_ADMISSIONS_AHEAD", 8, 0),
      /** The most a tenant's pool grows to under a burst (doubled each time calls outrun a top-up). */
      callAdmissionsAheadMax: yield* positiveInt("CALL_ADMISSIONS_AHEAD_MAX", 128),
      /** A tenant's reservations are given back after this long without a call on the replica. */
      callAdmissionsAheadIdleSecs: yield* positiveInt("CALL_ADMISSIONS_AHEAD_IDLE_SECS", 10)
    } as const
  })
}) {}

/**
 * A configuration error as one line for a refusal to start: each bad setting's message,
 * named by its variable when the message does not name it already.
 */
export const describeConfigError = (error: ConfigError.ConfigError): string => {
  switch (error._op) {
    case "And":
    case "Or":
      return `${describeConfigError(error.left)}; ${describeConfigError(error.right)}`
    default: {
      const name = error.path.join(".")
      return name === "" || error.message.includes(name) ? error.message : `${name}: ${error.message}`
    }
  }
}
