import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { gzipSync } from "node:zlib"

/** `npm run build` writes the console here; the same path from `src/Console` and `dist/Console`. */
const CONSOLE_DIR = fileURLToPath(new URL("../../dist/console", import.meta.url))

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".woff2": "font/woff2",
  ".png": "image/png"
}

interface Asset {
  readonly body: Uint8Array
  readonly gzipped: Uint8Array
  readonly type: string
}

/** Hashed file names never change content: cached for a year. The page itself is revalidated. */
const IMMUTABLE = "public, max-age=31536000, immutable"
const SAFE_NAME = /^[\w.-]{1,200}$/

const load = (file: string, type: string): Asset => {
  const body = fs.readFileSync(file)
  return { body, gzipped: gzipSync(body, { level: 9 }), type }
}

const notBuilt = HttpServerResponse.text(
  `<!doctype html><title>Console not built</title><p>The console has not been built: run <code>npm run build</code>.</p>`,
  { status: 503, contentType: "text/html; charset=utf-8" }
)

const send = (asset: Asset, cacheControl: string) =>
  Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
    const gzip = /\bgzip\b/.test(request.headers["accept-encoding"] ?? "")
    return HttpServerResponse.uint8Array(gzip ? asset.gzipped : asset.body, {
      contentType: asset.type,
      headers: {
        "cache-control": cacheControl,
        vary: "accept-encoding",
        "x-content-type-options": "nosniff",
        ...(gzip ? { "content-encoding": "gzip" } : {})
      }
    })
  })

/**
 * The web console (`web/`, built by Vite into `dist/console`): its page for every path under
 * `/console` (the app routes in the browser) and its hashed assets. Files are read once, at
 * the first request, and kept compressed.
 */
export const ConsoleRoutesLive = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function*() {
    let page: Asset | undefined
    const assets = new Map<string, Asset | null>()

    const index = Effect.suspend(() => {
      if (page === undefined) {
        const file = path.join(CONSOLE_DIR, "index.html")
        if (!fs.existsSync(file)) return Effect.succeed(notBuilt)
        page = load(file, "text/html; charset=utf-8")
      }
      return send(page, "no-cache")
    })

    const asset = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const name = decodeURIComponent(request.url.slice("/console/assets/".length).split("?")[0] ?? "")
      if (!SAFE_NAME.test(name) || name.startsWith(".")) return HttpServerResponse.text("Not found", { status: 404 })
      let found = assets.get(name)
      if (found === undefined) {
        const file = path.join(CONSOLE_DIR, "assets", name)
        const type = TYPES[path.extname(name)]
        found = type !== undefined && fs.existsSync(file) ? load(file, type) : null
        if (assets.size < 500) assets.set(name, found)
      }
      return found === null ? HttpServerResponse.text("Not found", { status: 404 }) : yield* send(found, IMMUTABLE)
    }).pipe(Effect.catchAllDefect(() => Effect.succeed(HttpServerResponse.text("Not found", { status: 404 }))))

    yield* router.get("/console", index)
    yield* router.get("/console/assets/*", asset)
    yield* router.get("/console/*", index)
    // The spec's dashboard had these addresses; they lead to the console.
    yield* router.get("/admin", Effect.succeed(HttpServerResponse.redirect("/console", { status: 302 })))
    yield* router.get("/dashboard", Effect.succeed(HttpServerResponse.redirect("/console", { status: 302 })))
  })
)
