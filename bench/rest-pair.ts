/**
 * Paired CPU per request for two or more trees (and `bare`), for A/B work on a machine others
 * are loading: every server runs at once and they take turns, one batch of sequential
 * requests each, so a change in the machine's load falls on all of them alike; each batch's
 * CPU is read from /proc around it. Reports the median over batches of ms per request and
 * the ratio to the first tree. Uses bench/rest-ab.ts's seeded database (run that once first).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/rest-pair.ts base-tree . bare
 *
 *   PAIR_CASES=call-logs,voice-sessions,detail,voice-session-detail,status PAIR_BATCH=200 PAIR_BATCHES=8 PAIR_WARMUP=300
 *   PAIR_PROF=dir (every server under --cpu-prof; profiles are written when they stop)
 *
 * With PostgreSQL on this machine, each batch also reads the CPU of the server's own backends
 * (connections to AB_DB whose client port is one of the server's sockets, from /proc): the
 * work its requests asked of PostgreSQL ("pg" below; 0 when PostgreSQL runs elsewhere).
 */
import type { ChildProcess } from "node:child_process"
import type * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import pg from "pg"
import { cpuSeconds } from "./proc.js"
import { benchKey, detailPaths, keepAliveGet, seededUrl, serverBackendCpu, sessionDetailPaths, startBare, startService } from "./rest-fixture.js"

const CASES = (process.env.PAIR_CASES ?? "call-logs,voice-sessions,detail,status").split(",")
const BATCH = Number(process.env.PAIR_BATCH ?? 200)
const BATCHES = Number(process.env.PAIR_BATCHES ?? 8)
const WARMUP = Number(process.env.PAIR_WARMUP ?? 300)

interface Server {
  readonly name: string
  readonly bare: boolean
  readonly port: number
  readonly child: ChildProcess
  readonly agent: http.Agent
  readonly get: (port: number, p: string) => Promise<number>
}

const PROF = process.env.PAIR_PROF
const profFlags = (name: string) => PROF === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${path.join(PROF, name)}`]

const start = async (tree: string, url: string, key: string): Promise<Server> => {
  const { agent, get } = keepAliveGet(key)
  if (tree === "bare") return { name: "bare", bare: true, ...(await startBare(url, profFlags("bare"))), agent, get }
  const name = path.basename(path.resolve(tree))
  return { name, bare: false, ...(await startService(tree, url, { execArgv: profFlags(name) })), agent, get }
}

const get = (server: Server, p: string) => server.get(server.port, p)

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

const main = async () => {
  const url = seededUrl()
  const db = new pg.Client({ connectionString: url.toString() })
  await db.connect()
  const key = await benchKey(db)
  const ids = await detailPaths(db, 200, true)
  const backendCpu = (server: Server) => serverBackendCpu(db, server.child.pid!)
  const paths: Record<string, ReadonlyArray<string>> = {
    "call-logs": ["/api/v1/call-logs?limit=50"],
    "voice-sessions": ["/api/v1/voice-sessions?limit=50"],
    detail: ids,
    "voice-session-detail": await sessionDetailPaths(db, 200, true),
    status: ["/status"]
  }
  const trees = process.argv.slice(2)
  const servers: Array<Server> = []
  for (const tree of trees) servers.push(await start(tree, url.toString(), key))
  console.log(`load ${os.loadavg().map((n) => n.toFixed(1)).join(" ")}; batches of ${BATCH} sequential requests, ${BATCHES} per server and case, servers taking turns`)
  for (const name of CASES) {
    const list = paths[name]!
    // The bare process answers /status without a key: not the same work.
    const taking = servers.filter((s) => !s.bare || name !== "status")
    for (const server of taking) for (let i = 0; i < WARMUP; i++) await get(server, list[i % list.length]!)
    const perRequest = new Map<Server, Array<number>>(taking.map((s) => [s, []]))
    const pgPerRequest = new Map<Server, Array<number>>(taking.map((s) => [s, []]))
    for (let batch = 0; batch < BATCHES; batch++) {
      for (const server of taking) {
        const pgBefore = await backendCpu(server)
        const before = cpuSeconds(server.child.pid!)
        for (let i = 0; i < BATCH; i++) {
          const status = await get(server, list[(batch * BATCH + i) % list.length]!)
          if (status !== 200) throw new Error(`${server.name} ${name}: status ${status}`)
        }
        perRequest.get(server)!.push(((cpuSeconds(server.child.pid!) - before) * 1000) / BATCH)
        pgPerRequest.get(server)!.push(((await backendCpu(server) - pgBefore) * 1000) / BATCH)
      }
    }
    const firstValues = perRequest.get(taking[0]!)!
    const first = median(firstValues)
    for (const server of taking) {
      const values = perRequest.get(server)!
      const m = median(values)
      const pgMs = median(pgPerRequest.get(server)!)
      // Each batch against the first server's batch of the same turn: the machine's load drifts
      // between turns far more than within one, so the median of these ratios is the steadier figure.
      const paired = median(values.map((v, i) => v / firstValues[i]!))
      console.log(`${name} ${server.name}: median ${m.toFixed(3)} ms/req (batches ${values.map((v) => v.toFixed(2)).join(" ")}), ` +
        `x${(m / first).toFixed(2)} of ${taking[0]!.name} (paired batches: x${paired.toFixed(2)}); pg ${pgMs.toFixed(3)} ms/req, service + pg ${(m + pgMs).toFixed(3)}`)
    }
  }
  console.log(`load ${os.loadavg().map((n) => n.toFixed(1)).join(" ")}`)
  await db.end()
  for (const server of servers) {
    server.child.kill("SIGTERM")
    server.agent.destroy()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
