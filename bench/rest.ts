/**
 * `npm run bench:rest`: throughput and latency of authenticated tenant REST calls through the
 * real server process, next to a bare node:http server answering the same JSON (the floor).
 *
 *   DATABASE_URL=postgres://... npm run bench:rest     (else an embedded PostgreSQL is used)
 *   BENCH_SECONDS=10 BENCH_CONNECTIONS=32
 */
import { spawn } from "node:child_process"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import pg from "pg"

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32)
const ADMIN_KEY = "bench-admin-key-0123456789abcdefghij"

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = http.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })

const percentile = (sorted: Array<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!

/** CONNECTIONS keep-alive clients issuing requests back to back for SECONDS. */
const load = async (port: number, path: string, headers: Record<string, string>) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS })
  const latencies: Array<number> = []
  let errors = 0
  const deadline = Date.now() + SECONDS * 1000
  const one = () =>
    new Promise<void>((resolve) => {
      const started = process.hrtime.bigint()
      http.get({ host: "127.0.0.1", port, path, headers, agent }, (res) => {
        res.resume()
        res.on("end", () => {
          if (res.statusCode !== 200) errors++
          latencies.push(Number(process.hrtime.bigint() - started) / 1e6)
          resolve()
        })
      }).on("error", () => {
        errors++
        resolve()
      })
    })
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (Date.now() < deadline) await one()
  }))
  agent.destroy()
  latencies.sort((a, b) => a - b)
  return {
    rps: Math.round(latencies.length / SECONDS),
    p50: percentile(latencies, 0.5).toFixed(2),
    p99: percentile(latencies, 0.99).toFixed(2),
    errors
  }
}

const json = async (port: number, method: string, path: string, body?: unknown) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { "x-admin-key": ADMIN_KEY, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  return res.json() as Promise<any>
}

const main = async () => {
  const adminUrl = process.env.DATABASE_URL
  let databaseUrl = ""
  const database = `ssv_bench_${process.pid}`
  if (adminUrl) {
    const admin = new pg.Client({ connectionString: adminUrl })
    await admin.connect()
    await admin.query(`create database ${database}`)
    await admin.end()
    const url = new URL(adminUrl)
    url.pathname = `/${database}`
    databaseUrl = url.toString()
  }

  const port = await freePort()
  const server = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: databaseUrl,
      ADMIN_API_KEY: ADMIN_KEY,
      RATE_LIMIT_PER_IP_PER_MINUTE: "100000000",
      RATE_LIMIT_PER_TENANT_PER_MINUTE: "100000000",
      SHUTDOWN_GRACE_SECONDS: "0"
    },
    stdio: "ignore"
  })
  for (let ready = false; !ready;) {
    await new Promise((resolve) => setTimeout(resolve, 250))
    ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.status === 200, () => false)
  }
  await json(port, "PUT", "/api/v1/admin/tenants/bench", { tenant_id: "bench", auth_token: "bench-legacy-token-0123456789" })
  const key = (await json(port, "POST", "/api/v1/admin/tenants/bench/api-keys", {})).created.token as string

  const body = JSON.stringify({ message: "running", tenant: "bench", org_id: null, timestamp: new Date().toISOString(), version: "0.1.0" })
  const bare = http.createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(body))
  await new Promise<void>((resolve) => bare.listen(0, "127.0.0.1", resolve))

  const rows = [
    ["bare node:http, same JSON (floor)", await load((bare.address() as AddressInfo).port, "/status", {})],
    ["GET /health/live (no auth)", await load(port, "/health/live", {})],
    ["GET /status, API key", await load(port, "/status", { authorization: `Bearer ${key}` })],
    ["GET /status, legacy token (cached)", await load(port, "/status", { authorization: "Bearer bench-legacy-token-0123456789" })]
  ] as const

  console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, node ${process.version}; ` +
    `${CONNECTIONS} connections, ${SECONDS}s each; load generator on the same machine`)
  console.log("| case | req/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|")
  for (const [name, r] of rows) console.log(`| ${name} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} |`)

  bare.close()
  server.kill("SIGTERM")
  await new Promise((resolve) => server.once("exit", resolve))
  if (adminUrl) {
    const admin = new pg.Client({ connectionString: adminUrl })
    await admin.connect()
    await admin.query(`drop database if exists ${database} with (force)`)
    await admin.end()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
