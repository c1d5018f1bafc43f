/**
 * What the REST A/B tools share (bench/rest-ab.ts, rest-pair.ts, rest-ops.ts, ops-trace.ts): the
 * seeded database (bench/rest-ab.ts seeds it once), its API key, the service's environment and
 * start-up, the bare baseline, and keep-alive GETs with the key, one request at a time.
 */
import { type ChildProcess, fork, spawn, type StdioOptions } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import type pg from "pg"
import { cpuSeconds, freePort } from "./proc.js"

export const AB_DB = process.env.AB_DB ?? "ssv_rest_ab"
export const TENANT = "bench-large"
export const ADMIN_KEY = "bench-admin-key-0123456789abcdefghij"

/** The seeded database's URL, on the server of `DATABASE_URL`. */
export const seededUrl = (): URL => {
  const url = new URL(process.env.DATABASE_URL!)
  url.pathname = `/${AB_DB}`
  return url
}

/** The tenant's API key, stored by the seeding run. */
export const benchKey = async (db: pg.Client): Promise<string> =>
  (await db.query("select token from bench_ab_key")).rows[0].token as string

/** Detail paths of `count` of the tenant's calls (random ones when `random`). */
export const detailPaths = async (db: pg.Client, count: number, random: boolean): Promise<Array<string>> =>
  (await db.query(`select id from call_logs where tenant_id = $1 ${random ? "order by random() " : ""}limit ${count}`, [TENANT]))
    .rows.map((r) => `/api/v1/call-logs/${r.id}`)

/** Detail paths of `count` of the tenant's voice sessions (random ones when `random`). */
export const sessionDetailPaths = async (db: pg.Client, count: number, random: boolean): Promise<Array<string>> =>
  (await db.query(`select id from voice_sessions where tenant_id = $1 ${random ? "order by random() " : ""}limit ${count}`, [TENANT]))
    .rows.map((r) => `/api/v1/voice-sessions/${r.id}`)

/** The service's environment: no rate limits in the way, no shutdown grace. */
export const serviceEnv = (port: number, url: string): NodeJS.ProcessEnv => ({
  ...process.env,
  PORT: String(port),
  HOST: "127.0.0.1",
  DATABASE_URL: url,
  ADMIN_API_KEY: ADMIN_KEY,
  RATE_LIMIT_PER_IP_PER_MINUTE: "100000000",
  RATE_LIMIT_PER_TENANT_PER_MINUTE: "100000000",
  SHUTDOWN_GRACE_SECONDS: "0"
})

export const waitReady = async (port: number) => {
  for (let ready = false; !ready;) {
    await new Promise((resolve) => setTimeout(resolve, 250))
    ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.status < 500, () => false)
  }
}

export interface Started {
  readonly port: number
  readonly child: ChildProcess
}

/** A tree's service from source (`entry`: src/main.ts or a bench supervisor), ready to serve. */
export const startService = async (
  tree: string,
  url: string,
  options: { readonly entry?: string; readonly execArgv?: ReadonlyArray<string>; readonly stdio?: StdioOptions } = {}
): Promise<Started> => {
  const port = await freePort()
  const child = spawn(process.execPath, [...(options.execArgv ?? []), "--import", "tsx", options.entry ?? "src/main.ts"], {
    cwd: tree,
    env: serviceEnv(port, url),
    stdio: options.stdio ?? "ignore"
  })
  await waitReady(port)
  return { port, child }
}

/** The bare `node:http` + `pg` baseline (bench/rest-baseline.ts), ready to serve. */
export const startBare = async (url: string, execArgv: ReadonlyArray<string> = [], stdio: StdioOptions = "ignore"): Promise<Started> => {
  const port = await freePort()
  const child = fork("bench/rest-baseline.ts", [], {
    execArgv: [...execArgv, "--import", "tsx"],
    env: { ...process.env, DATABASE_URL: url, PORT: String(port), TENANT },
    // fork needs an IPC channel (the ready message) among the descriptors.
    stdio: stdio === "ignore" ? "ignore" : ["ignore", "pipe", "inherit", "ipc"]
  })
  await new Promise((resolve) => child.once("message", resolve))
  return { port, child }
}

/** GET with the key on one kept-alive connection; resolves to the status once the body is read. */
export const keepAliveGet = (key: string) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const get = (port: number, p: string) =>
    new Promise<number>((resolve, reject) => {
      http.get({ host: "127.0.0.1", port, path: p, agent, headers: { authorization: `Bearer ${key}` } }, (res) => {
        res.resume()
        res.on("end", () => resolve(res.statusCode!))
      }).on("error", reject)
    })
  return { agent, get }
}

/** Stops a started server and waits for it to exit. */
export const stop = async (child: ChildProcess) => {
  const exited = new Promise((resolve) => child.exitCode !== null ? resolve(undefined) : child.once("exit", resolve))
  child.kill("SIGTERM")
  await exited
}

/** The local TCP ports of a process's sockets (from /proc). */
export const localPorts = (pid: number) => {
  const inodes = new Set<string>()
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    const link = (() => {
      try {
        return fs.readlinkSync(`/proc/${pid}/fd/${fd}`)
      } catch {
        return ""
      }
    })()
    const match = /^socket:\[(\d+)\]$/.exec(link)
    if (match !== null) inodes.add(match[1]!)
  }
  const ports = new Set<number>()
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of fs.readFileSync(table, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/)
      if (cols.length > 9 && inodes.has(cols[9]!)) ports.add(parseInt(cols[1]!.split(":")[1]!, 16))
    }
  }
  return ports
}

/**
 * CPU seconds used so far by the PostgreSQL backends serving the server `pid` (PostgreSQL on
 * this machine): only the connections to AB_DB whose client end is one of the server's own
 * sockets, since other tools may be using the same database. 0 when PostgreSQL runs elsewhere.
 * `database`: another database than AB_DB (bench:rest's).
 */
export const serverBackendCpu = async (db: pg.Client, pid: number, database = AB_DB) => {
  const ports = localPorts(pid)
  const backends = (await db.query(`select pid, client_port from pg_stat_activity where datname = $1`, [database])).rows
  let seconds = 0
  for (const { client_port, pid } of backends) {
    if (!ports.has(client_port)) continue
    try {
      seconds += cpuSeconds(pid)
    } catch {
      // not on this machine, or the connection just closed
    }
  }
  return seconds
}
