import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Effect, Layer, Option } from "effect"
import * as os from "node:os"
import { AppConfig } from "./Config.js"
import { SERVICE_VERSION } from "./Health/ServiceInfo.js"

/**
 * Traces (a span per request, per SQL statement, per service method) and metrics to the
 * OTLP/HTTP endpoint in OTEL_EXPORTER_OTLP_ENDPOINT. When it is unset nothing reads spans, so
 * none are made: every span becomes Effect's no-op span and the HTTP server skips its request
 * span (src/Server.ts), which was a measurable share of each request's CPU (bench/RESULTS.md).
 * Spans carry no credentials: secrets are `Redacted` in config and never become span attributes.
 */
export const TelemetryLive = Layer.unwrapEffect(
  Effect.map(AppConfig, (config) =>
    Option.match(config.otelExporterOtlpEndpoint, {
      onNone: () => Layer.setTracerEnabled(false),
      // Loaded only when used: the package's barrel alone is ~20 MB of resident memory.
      onSome: (baseUrl) =>
        Layer.unwrapEffect(Effect.map(Effect.promise(() => import("@effect/opentelemetry/Otlp")), (Otlp) =>
          Otlp.layerJson({
            baseUrl,
            resource: {
              serviceName: "stateset-voice",
              serviceVersion: SERVICE_VERSION,
              // Which replica: metrics over OTLP carry it as a resource attribute, not a label.
              attributes: { "service.instance.id": `${os.hostname()}-${process.pid}` }
            },
            tracerExportInterval: "1 second",
            metricsExportInterval: "5 seconds"
          }).pipe(Layer.provide(FetchHttpClient.layer))))
    })
  )
)
