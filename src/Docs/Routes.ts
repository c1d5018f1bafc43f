import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect } from "effect"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { AdminApi, Api, PublicApi } from "../Api.js"
import { AppConfig } from "../Config.js"
import { makeOpenApiDocuments } from "./OpenApiDocuments.js"
import { docsHubPage, gettingStartedPage, swaggerInit, swaggerPage } from "./Pages.js"

const swaggerAsset = (file: string) => {
  const dir = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"))
  return fs.readFileSync(path.join(dir, file))
}

const cacheable = { "cache-control": "public, max-age=3600" }

/** Made on first use and kept: most replicas never serve their docs, so start-up and idle memory do not pay for them. */
const once = <A>(make: () => A) => {
  let made: { readonly value: A } | undefined
  return () => (made ??= { value: make() }).value
}

/** OpenAPI documents, Swagger UI, the docs hub and the quickstart (plain routes, outside the Api). */
export const DocsRoutesLive = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const documents = once(() => makeOpenApiDocuments({ full: Api, public: PublicApi, admin: AdminApi }, config.publicBaseUrl))
    const assets = {
      "swagger-ui.css": { body: once(() => swaggerAsset("swagger-ui.css")), type: "text/css" },
      "swagger-ui-bundle.js": { body: once(() => swaggerAsset("swagger-ui-bundle.js")), type: "text/javascript" },
      "swagger-ui-standalone-preset.js": { body: once(() => swaggerAsset("swagger-ui-standalone-preset.js")), type: "text/javascript" }
    }

    yield* router.get("/api-docs/openapi.json", Effect.suspend(() => HttpServerResponse.json(documents().full)))
    yield* router.get("/api-docs/public.json", Effect.suspend(() => HttpServerResponse.json(documents().public)))
    yield* router.get("/api-docs/admin.json", Effect.suspend(() => HttpServerResponse.json(documents().admin)))
    // A browser opening the service's address lands on the docs.
    yield* router.get("/", Effect.succeed(HttpServerResponse.redirect("/docs", { status: 302 })))
    yield* router.get("/docs", Effect.succeed(HttpServerResponse.html(docsHubPage)))
    yield* router.get("/getting-started", Effect.succeed(HttpServerResponse.html(gettingStartedPage(config.publicBaseUrl))))
    yield* router.get("/swagger-ui", Effect.succeed(HttpServerResponse.html(swaggerPage)))
    yield* router.get("/swagger-ui/init.js", Effect.succeed(HttpServerResponse.text(swaggerInit, { contentType: "text/javascript" })))
    for (const [name, asset] of Object.entries(assets)) {
      yield* router.get(
        `/swagger-ui/${name}`,
        Effect.sync(() => HttpServerResponse.uint8Array(asset.body(), { contentType: asset.type, headers: cacheable }))
      )
    }
  })
)
