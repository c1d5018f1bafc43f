import * as Otlp from "@effect/opentelemetry/Otlp"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Context, Effect, Layer } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { closableServer } from "./Bounded.js"

export interface OtlpExport {
  readonly path: string
  readonly body: string
}

/** An OTLP/HTTP JSON receiver on 127.0.0.1 that keeps every export it is sent. */
export const startFakeOtlpCollector = Effect.acquireRelease(
  Effect.async<{ url: string; exports: Array<OtlpExport>; close: () => Promise<void> }>((resume) => {
    const exports: Array<OtlpExport> = []
    const server = http.createServer((req, res) => {
      let body = ""
      req.on("data", (chunk) => (body += chunk))
      req.on("end", () => {
        exports.push({ path: req.url ?? "", body })
        res.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    })
    const close = closableServer(server, "the fake OTLP collector")
    server.listen(0, "127.0.0.1", () =>
      resume(Effect.succeed({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, exports, close })))
  }),
  ({ close }) => Effect.promise(close)
)

/** Span names in the trace exports received so far. */
export const spanNames = (exports: ReadonlyArray<OtlpExport>): Array<string> =>
  exports
    .filter((e) => e.path === "/v1/traces")
    .flatMap((e) => {
      const payload = JSON.parse(e.body) as {
        resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ name: string }> }> }>
      }
      return payload.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((span) => span.name)))
    })

export interface OtlpSpan {
  readonly traceId: string
  readonly spanId: string
  readonly name: string
  readonly attributes: Record<string, unknown>
  readonly events: ReadonlyArray<{ readonly name: string; readonly attributes: Record<string, unknown> }>
  readonly links: ReadonlyArray<{ readonly traceId: string; readonly spanId: string }>
}

type KeyValue = { key: string; value: Record<string, unknown> }
const attributesOf = (list: ReadonlyArray<KeyValue> | undefined): Record<string, unknown> =>
  Object.fromEntries((list ?? []).map(({ key, value }) => [key, Object.values(value)[0]]))

/** Every span in the trace exports received so far, attributes flattened (OTLP/JSON). */
export const spans = (exports: ReadonlyArray<OtlpExport>): Array<OtlpSpan> =>
  exports
    .filter((e) => e.path === "/v1/traces")
    .flatMap((e) => {
      const payload = JSON.parse(e.body) as {
        resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<any> }> }>
      }
      return payload.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans))
    })
    .map((span) => ({
      traceId: span.traceId,
      spanId: span.spanId,
      name: span.name,
      attributes: attributesOf(span.attributes),
      events: (span.events ?? []).map((event: any) => ({ name: event.name, attributes: attributesOf(event.attributes) })),
      links: (span.links ?? []).map((link: any) => ({ traceId: link.traceId, spanId: link.spanId }))
    }))

/** What a suite reads its collector's exports through. */
export class OtlpCollector extends Context.Tag("test/OtlpCollector")<OtlpCollector, { readonly exports: Array<OtlpExport> }>() {}

/** A fake collector, and the process's OTLP exporter sending it traces every 100 ms. */
export const exportingToFakeCollector = Layer.unwrapScoped(Effect.map(startFakeOtlpCollector, (collector) =>
  Layer.succeed(OtlpCollector, collector).pipe(Layer.merge(
    Otlp.layerJson({
      baseUrl: collector.url,
      resource: { serviceName: "stateset-voice-test" },
      tracerExportInterval: "100 millis"
    }).pipe(Layer.provide(FetchHttpClient.layer))
  ))))
