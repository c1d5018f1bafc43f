import { Effect } from "effect"
import * as http from "node:http"

export interface FakeTickets {
  readonly baseUrl: string
  /** Ticket id -> what GET /tickets/{id} answers; an unknown id is a 404. */
  readonly tickets: Map<string, { status: string; assignee: string | null }>
  readonly requests: Array<{ readonly path: string; readonly authorization: string | undefined }>
}

/** A tenant's ticketing system on 127.0.0.1: `GET /tickets/{id}` answers `{status, assignee}` as JSON. */
export const startFakeTickets = Effect.acquireRelease(
  Effect.async<FakeTickets>((resume) => {
    const fake: FakeTickets = { baseUrl: "", tickets: new Map(), requests: [] }
    const server = http.createServer((req, res) => {
      fake.requests.push({ path: req.url ?? "", authorization: req.headers.authorization })
      const id = decodeURIComponent((req.url ?? "").replace(/^\/tickets\//, ""))
      const ticket = fake.tickets.get(id)
      if (ticket === undefined) return res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}')
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id, ...ticket }))
    })
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      resume(Effect.succeed(Object.assign(fake, { baseUrl: `http://127.0.0.1:${port}`, close: () => server.close() })))
    })
  }),
  (fake) => Effect.sync(() => (fake as FakeTickets & { close: () => void }).close())
)
