import { Effect } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { Webhook } from "standardwebhooks"
import { closableServer } from "./Bounded.js"

/** A request the fake took, and whether its Standard Webhooks signature verified with the tenant's secret. */
export interface ToolRequest {
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
  readonly verified: boolean
}

/** How a path answers: a status and JSON body, after `delayMs` (a delay past the tool's timeout is a timeout). */
export interface ToolAnswer {
  readonly status?: number
  readonly json?: unknown
  readonly delayMs?: number
}

export interface FakeToolServer {
  readonly url: (path: string) => string
  readonly requests: Array<ToolRequest>
  readonly on: (path: string, answer: ToolAnswer) => void
}

/**
 * A tenant's function server (and email endpoint) on 127.0.0.1: verifies each request with the
 * independent `standardwebhooks` library and answers as scripted per path (default 200 `{ ok: true }`).
 */
export const fakeToolServer = (secret: string) =>
  Effect.acquireRelease(
    Effect.async<{ close: () => Promise<void>; fake: FakeToolServer }>((resume) => {
      const answers = new Map<string, ToolAnswer>()
      const requests: Array<ToolRequest> = []
      const server = http.createServer((req, res) => {
        let body = ""
        req.setEncoding("utf8")
        req.on("data", (chunk) => (body += chunk))
        req.on("end", () => {
          const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]))
          let verified = false
          try {
            new Webhook(secret).verify(body, headers)
            verified = true
          } catch {
            verified = false
          }
          const path = req.url ?? "/"
          requests.push({ path, headers, body: JSON.parse(body) as unknown, verified })
          const answer = answers.get(path) ?? {}
          setTimeout(() => {
            if (res.destroyed) return
            res.writeHead(answer.status ?? 200, { "content-type": "application/json" }).end(JSON.stringify(answer.json ?? { ok: true }))
          }, answer.delayMs ?? 0)
        })
      })
      const close = closableServer(server, "the fake tool server")
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as AddressInfo).port
        resume(Effect.succeed({
          close,
          fake: {
            url: (path: string) => `http://127.0.0.1:${port}${path}`,
            requests,
            on: (path: string, answer: ToolAnswer) => void answers.set(path, answer)
          }
        }))
      })
    }),
    ({ close }) => Effect.promise(close)
  ).pipe(Effect.map(({ fake }) => fake))
