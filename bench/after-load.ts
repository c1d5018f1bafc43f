/**
 * Issue 13 in small: does the built service's RSS come back to idle after a REST load run?
 * Starts `node dist/main.js` (build first) on a throwaway database, seeds one tenant, reads
 * RSS after 15 s idle, runs a closed loop of list requests (CONCURRENCY at once, SECONDS
 * long), then reads RSS 5, 15 and 30 s after it.
 *
 *   DATABASE_URL=postgres://... npx tsx bench/after-load.ts [--seconds=20] [--concurrency=16] [--rows=2000]
 */
import { spawn } from "node:child_process"
import * as http from "node:http"
import pg from "pg"
import { freePort, machine, rssMb } from "./proc.js"
import { seed } from "./seed.js"

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback
const SECONDS = Number(arg("seconds", "20"))
const CONCURRENCY = Number(arg("concurrency", "16"))
const ROWS = Number(arg("rows", "2000"))
const ADMIN_KEY = "bench-admin-key-0123456789abcdef"
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const request = (port: number, method: string, path: string, headers: Record<string, string>, body?: unknown) =>
  new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, headers: { ...headers, "content-type": "application/json" } }, (res) => {
      let text = ""
      res.on("data", (chunk: Buffer) => (text += chunk))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on("error", reject)
    req.end(body === undefined ? undefined : JSON.stringify(body))
  })

const main = async () => {
  const admin = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
  const name = `after_load_${process.pid}`
  const client = new pg.Client({ connectionString: admin })
  await client.connect()
  await client.query(`create database ${name}`)
  const url = new URL(admin)
  url.pathname = `/${name}`
  const port = await freePort()
  const server = spawn(process.execPath, ["dist/main.js"], {
    env: { PATH: process.env.PATH, DATABASE_URL: url.toString(), ADMIN_API_KEY: ADMIN_KEY, PORT: String(port), HOST: "127.0.0.1",
      RATE_LIMIT_PER_IP_PER_MINUTE: "100000000", RATE_LIMIT_PER_TENANT_PER_MINUTE: "100000000", SHUTDOWN_GRACE_SECONDS: "0" },
    stdio: "ignore"
  })
  try {
    for (let i = 0; ; i++) {
      if ((await request(port, "GET", "/health/ready", {}).catch(() => ({ status: 0 }))).status === 200) break
      if (i > 600) throw new Error("not ready")
      await sleep(200)
    }
    const adminHeaders = { "x-admin-key": ADMIN_KEY }
    await request(port, "PUT", "/api/v1/admin/tenants/load", adminHeaders, { tenant_id: "load", auth_token: "load-legacy-token-0123456789" })
    const key = JSON.parse((await request(port, "POST", "/api/v1/admin/tenants/load/api-keys", adminHeaders, {})).text).created.token as string
    await seed(url.toString(), [{ tenantId: "load", rows: ROWS }])
    await sleep(15_000)
    const idle = rssMb(server.pid!)
    const paths = ["/api/v1/call-logs?limit=50", "/api/v1/voice-sessions?limit=50", "/api/v1/call-logs/stats"]
    const auth = { authorization: `Bearer ${key}` }
    let done = 0
    let failed = 0
    let peak = idle
    const until = Date.now() + SECONDS * 1000
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(server.pid!))), 250)
    await Promise.all(Array.from({ length: CONCURRENCY }, async (_, worker) => {
      for (let i = worker; Date.now() < until; i++) {
        const { status } = await request(port, "GET", paths[i % paths.length]!, auth)
        if (status === 200) done++
        else failed++
      }
    }))
    clearInterval(sampler)
    const end = rssMb(server.pid!)
    const after: Array<number> = []
    for (const wait of [5, 10, 15]) {
      await sleep(wait * 1000)
      after.push(rssMb(server.pid!))
    }
    const m = machine()
    console.log(`${process.cwd()}: ${m.nproc} x ${m.model}, node ${m.node}, load ${m.loadavg}; ${ROWS} rows, ${CONCURRENCY} at once for ${SECONDS} s: ${done} answered (${failed} not 200)`)
    console.log(`RSS MB: idle ${idle.toFixed(0)}, peak ${peak.toFixed(0)}, at the end ${end.toFixed(0)}, 5 / 15 / 30 s after ${after.map((n) => n.toFixed(0)).join(" / ")} (${((after[2]! / idle - 1) * 100).toFixed(0)} % over idle)`)
  } finally {
    server.kill("SIGTERM")
    await new Promise((resolve) => server.once("exit", resolve))
    await client.query(`drop database if exists ${name} with (force)`)
    await client.end()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
