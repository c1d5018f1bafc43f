import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import * as http from "node:http"

/** A request the fake received, with its form body and Basic credentials. */
export interface TwilioRequest {
  readonly method: string
  readonly path: string
  readonly accountSid: string | undefined
  readonly authToken: string | undefined
  readonly form: Record<string, string | Array<string>>
}

export interface FakeTwilio {
  readonly baseUrl: string
  readonly requests: Array<TwilioRequest>
  /** Accounts the fake accepts (AccountSid -> auth token). */
  readonly accounts: Map<string, string>
  /** How the next calls answer: normally, HTTP 500, or by dropping the connection. */
  failWith: "none" | "server_error" | "drop"
  /** Destination numbers whose call creation fails with HTTP 500. */
  readonly failingNumbers: Set<string>
  /** Destination numbers Twilio refuses (HTTP 400, error 21211), as it does for unreachable prefixes. */
  readonly rejectedNumbers: Set<string>
}

const E164 = /^\+[1-9]\d{6,14}$/

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json" })
  res.end(JSON.stringify(body))
}

const twilioError = (res: http.ServerResponse, status: number, code: number, message: string) =>
  json(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status })

const parseForm = (body: string) => {
  const form: Record<string, string | Array<string>> = {}
  for (const [key, value] of new URLSearchParams(body)) {
    const existing = form[key]
    form[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value]
  }
  return form
}

const callResource = (accountSid: string, sid: string, fields: Record<string, unknown>) => ({
  sid,
  account_sid: accountSid,
  api_version: "2010-04-01",
  uri: `/2010-04-01/Accounts/${accountSid}/Calls/${sid}.json`,
  ...fields
})

/**
 * Twilio's REST API (the parts we call) on 127.0.0.1: create a call
 * (`POST /2010-04-01/Accounts/{sid}/Calls.json`) and update a live one
 * (`POST .../Calls/{CallSid}.json`), with Basic auth and Twilio's error bodies.
 */
export const startFakeTwilio = Effect.acquireRelease(
  Effect.async<FakeTwilio>((resume) => {
    const fake: FakeTwilio = {
      baseUrl: "",
      requests: [],
      accounts: new Map(),
      failWith: "none",
      failingNumbers: new Set(),
      rejectedNumbers: new Set()
    }
    const server = http.createServer((req, res) => {
      let body = ""
      req.on("data", (chunk) => (body += chunk))
      req.on("end", () => {
        const path = (req.url ?? "").split("?")[0]!
        const [user, pass] = Buffer.from((req.headers.authorization ?? "").replace(/^Basic /, ""), "base64")
          .toString("utf8").split(":")
        const form = parseForm(body)
        fake.requests.push({ method: req.method ?? "", path, accountSid: user, authToken: pass, form })
        if (fake.failWith === "drop") return req.socket.destroy()
        if (fake.failWith === "server_error") return twilioError(res, 500, 20500, "Internal Server Error")
        const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls(?:\/([^/]+))?\.json$/.exec(path)
        if (req.method !== "POST" || match === null) return twilioError(res, 404, 20404, "The requested resource was not found")
        const accountSid = match[1]!
        if (user !== accountSid || fake.accounts.get(accountSid) !== pass) {
          return twilioError(res, 401, 20003, "Authenticate")
        }
        const callSid = match[2]
        if (callSid === undefined) {
          const to = String(form.To ?? "")
          const from = String(form.From ?? "")
          if (fake.failingNumbers.has(to)) return twilioError(res, 500, 20500, "Internal Server Error")
          if (!E164.test(to) || fake.rejectedNumbers.has(to)) return twilioError(res, 400, 21211, `Invalid 'To' Phone Number: ${to}`)
          if (!E164.test(from)) return twilioError(res, 400, 21212, `Invalid 'From' Phone Number: ${from}`)
          if (form.Url === undefined && form.Twiml === undefined) {
            return twilioError(res, 400, 21205, "Url parameter is required")
          }
          const sid = `CA${randomBytes(16).toString("hex")}`
          return json(res, 201, callResource(accountSid, sid, { to, from, status: "queued", direction: "outbound-api" }))
        }
        return json(res, 200, callResource(accountSid, callSid, { status: form.Status ?? "in-progress" }))
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      resume(Effect.succeed(Object.assign(fake, { baseUrl: `http://127.0.0.1:${port}`, server })))
    })
  }),
  (fake) =>
    Effect.async<void>((resume) => {
      const server = (fake as FakeTwilio & { server?: http.Server }).server
      if (server === undefined) return resume(Effect.void)
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
)
