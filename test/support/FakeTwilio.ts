import { Effect } from "effect"
import * as http from "node:http"
import { type FakeTwilioState, routes, twilioError } from "./FakeTwilioRoutes.js"
import { closableServer } from "./Bounded.js"

/** A request the fake received, with its form body, query and Basic credentials. */
export interface TwilioRequest {
  readonly method: string
  readonly path: string
  readonly query: Record<string, string>
  readonly accountSid: string | undefined
  readonly authToken: string | undefined
  readonly form: Record<string, string | Array<string>>
}

export interface FakeTwilio extends FakeTwilioState {
  readonly baseUrl: string
  readonly requests: Array<TwilioRequest>
  /** Accounts the fake accepts (AccountSid -> auth token). */
  readonly accounts: Map<string, string>
  /**
   * How the next requests answer: normally, HTTP 500, 503 or 429 (Twilio's error bodies), by
   * dropping the connection, never, or with a 200 HTML page.
   */
  failWith: "none" | "server_error" | "unavailable" | "throttled" | "drop" | "hang" | "garbage"
  /** Answers (and acts) only after this long: a slow Twilio that still creates the call. */
  delayMs: number
}

const parseForm = (body: string) => {
  const form: Record<string, string | Array<string>> = {}
  for (const [key, value] of new URLSearchParams(body)) {
    const existing = form[key]
    form[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value]
  }
  return form
}

const basicCredentials = (header: string | undefined) => {
  const [user, pass] = Buffer.from((header ?? "").replace(/^Basic /, ""), "base64").toString("utf8").split(":")
  return { user, pass }
}

/**
 * Twilio reads a POST body only as a form, and its parameter names are PascalCase: a JSON body
 * or a camelCase name (twilio-node's option names leaking onto the wire) would be silently
 * ignored by Twilio; the fake refuses them so a test sees the mistake.
 */
const formRefusal = (method: string, contentType: string | undefined, form: Record<string, unknown>) => {
  if (method !== "POST") return null
  if (!(contentType ?? "").startsWith("application/x-www-form-urlencoded")) return `Unsupported Content-Type: ${contentType}`
  const wrong = Object.keys(form).find((key) => !/^[A-Z][A-Za-z0-9.]*$/.test(key))
  return wrong === undefined ? null : `Unknown parameter: ${wrong}`
}

const ACCOUNT_PATH = /^\/2010-04-01\/Accounts\/([^/]+)(\/.*)$/

/**
 * Twilio's REST API (the parts we call, see FakeTwilioRoutes.ts) on 127.0.0.1: Basic auth
 * against `accounts`, form-encoded requests, Twilio's JSON resources and error bodies.
 */
export const startFakeTwilio = Effect.acquireRelease(
  Effect.async<FakeTwilio>((resume) => {
    const fake: FakeTwilio = {
      baseUrl: "",
      requests: [],
      accounts: new Map(),
      failWith: "none",
      delayMs: 0,
      failingNumbers: new Set(),
      rejectedNumbers: new Set(),
      calls: new Map(),
      conferences: new Map(),
      messages: [],
      recordings: new Map()
    }
    const server = http.createServer((req, res) => {
      let body = ""
      req.on("data", (chunk) => (body += chunk))
      req.on("end", () => (fake.delayMs > 0 ? setTimeout(answer, fake.delayMs) : answer()))
      const answer = () => {
        const url = new URL(req.url ?? "/", "http://fake.twilio")
        const { pass, user } = basicCredentials(req.headers.authorization)
        const form = parseForm(body)
        const method = req.method ?? ""
        const query = Object.fromEntries(url.searchParams)
        fake.requests.push({ method, path: url.pathname, query, accountSid: user, authToken: pass, form })
        if (fake.failWith === "drop") return req.socket.destroy()
        if (fake.failWith === "hang") return
        if (fake.failWith === "garbage") return res.writeHead(200, { "content-type": "text/html" }).end("<html>proxy</html>")
        if (fake.failWith === "server_error") return twilioError(res, 500, 20500, "Internal Server Error")
        if (fake.failWith === "unavailable") return twilioError(res, 503, 20503, "Service Unavailable")
        if (fake.failWith === "throttled") return twilioError(res, 429, 20429, "Too Many Requests")
        const refused = formRefusal(method, req.headers["content-type"], form)
        if (refused !== null) return twilioError(res, 400, 20001, refused)
        const account = ACCOUNT_PATH.exec(url.pathname)
        if (account === null) return twilioError(res, 404, 20404, `The requested resource ${url.pathname} was not found`)
        const accountSid = account[1]!
        if (user !== accountSid || fake.accounts.get(accountSid) !== pass) {
          return twilioError(res, 401, 20003, "Authenticate")
        }
        for (const route of routes) {
          const match = route.method === method ? route.pattern.exec(account[2]!) : null
          if (match === null) continue
          const params = match.slice(1).map(decodeURIComponent)
          return route.handle({ state: fake, res, accountSid, params, form, query: url.searchParams, path: url.pathname })
        }
        twilioError(res, 404, 20404, `The requested resource ${url.pathname} was not found`)
      }
    })
    const close = closableServer(server, "the fake Twilio API")
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      resume(Effect.succeed(Object.assign(fake, { baseUrl: `http://127.0.0.1:${port}`, close })))
    })
  }),
  (fake) => Effect.promise((fake as FakeTwilio & { close: () => Promise<void> }).close)
)
