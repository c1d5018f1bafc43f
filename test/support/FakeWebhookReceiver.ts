import { Effect } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { closableServer } from "./Bounded.js"

/** One request the receiver answered, as sent. */
export interface Received {
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/** How the receiver answers a request: a status (and headers), or "hang" (never answer). */
export type Answer = { readonly status: number; readonly headers?: Record<string, string> } | "hang"

export interface FakeWebhookReceiver {
  readonly url: (path: string) => string
  /** Requests answered (hanging ones are not here). */
  readonly received: Array<Received>
  /** Requests left hanging so far. */
  readonly hanging: () => number
  /** Requests to `path` answered so far. */
  readonly on: (path: string) => ReadonlyArray<Received>
  /** Answers for requests to `path`, in turn; the last one repeats. Default: 200. */
  readonly script: (path: string, answers: ReadonlyArray<Answer>) => void
  readonly close: () => Promise<void>
}

/** A tenant's webhook (or billing) endpoint on 127.0.0.1: records every request, answers as scripted per path. */
export const startWebhookReceiver = (): Promise<FakeWebhookReceiver> =>
  new Promise((resolve) => {
    const received: Array<Received> = []
    const scripts = new Map<string, { answers: ReadonlyArray<Answer>; next: number }>()
    let hanging = 0
    const server = http.createServer((req, res) => {
      let body = ""
      req.setEncoding("utf8")
      req.on("data", (chunk) => (body += chunk))
      req.on("end", () => {
        const path = req.url ?? "/"
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]))
        const script = scripts.get(path)
        const answer = script === undefined ? { status: 200 } : script.answers[Math.min(script.next++, script.answers.length - 1)]!
        if (answer === "hang") return void hanging++
        received.push({ path, headers, body })
        res.writeHead(answer.status, { "content-type": "text/plain", ...answer.headers }).end("ok")
      })
    })
    const close = closableServer(server, "the fake webhook receiver")
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as AddressInfo).port
      resolve({
        received,
        hanging: () => hanging,
        url: (path: string) => `http://127.0.0.1:${port}${path}`,
        on: (path: string) => received.filter((r) => r.path === path),
        script: (path: string, answers: ReadonlyArray<Answer>) => void scripts.set(path, { answers, next: 0 }),
        close
      })
    })
  })

/** The receiver for the scope's lifetime. */
export const fakeWebhookReceiver = Effect.acquireRelease(
  Effect.promise(startWebhookReceiver),
  (receiver) => Effect.promise(receiver.close)
)
