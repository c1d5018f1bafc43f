import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { createServer } from "node:net"
import pg from "pg"

export const ADMIN_KEY = `fuzz-admin-${randomBytes(12).toString("hex")}`

export interface Target {
  readonly baseUrl: string
  readonly stop: () => Promise<void>
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** A database of its own on DATABASE_URL's server, dropped afterwards. */
const freshDatabase = async (adminUrl: string) => {
  const name = `ssv_fuzz_${randomBytes(6).toString("hex")}`
  const run = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl })
    await client.connect()
    try {
      await client.query(sql)
    } finally {
      await client.end()
    }
  }
  await run(`create database ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return { url: url.toString(), drop: () => run(`drop database if exists ${name} with (force)`) }
}

const waitUntilLive = async (baseUrl: string, child: ChildProcess, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`)
    try {
      const res = await fetch(`${baseUrl}/health/ready`, { signal: AbortSignal.timeout(1_000) })
      if (res.status === 200) return
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error("the service did not become ready")
}

/**
 * The service under test: FUZZ_BASE_URL if given (it must have ADMIN_API_KEY=FUZZ_ADMIN_KEY),
 * else `src/main.ts` started here on a free port, on a fresh database when DATABASE_URL is
 * set (the embedded PostgreSQL otherwise). Outside services point at a closed local port.
 */
export const startTarget = async (log: Array<string>): Promise<Target> => {
  const given = process.env.FUZZ_BASE_URL
  if (given !== undefined && given !== "") return { baseUrl: given.replace(/\/+$/, ""), stop: async () => {} }
  const database = process.env.DATABASE_URL ? await freshDatabase(process.env.DATABASE_URL) : undefined
  const port = await freePort()
  const dead = "http://127.0.0.1:9"
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      ...(database === undefined ? {} : { DATABASE_URL: database.url }),
      ADMIN_API_KEY: ADMIN_KEY,
      RATE_LIMIT_PER_IP_PER_MINUTE: "10000000",
      RATE_LIMIT_PER_TENANT_PER_MINUTE: "10000000",
      OPENAI_BASE_URL: `${dead}/v1`,
      TWILIO_API_BASE_URL: dead,
      ELEVENLABS_BASE_URL: dead,
      OTEL_EXPORTER_OTLP_ENDPOINT: ""
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) if (line.trim() !== "") log.push(line)
    if (log.length > 5_000) log.splice(0, log.length - 5_000)
  }
  child.stdout?.on("data", keep)
  child.stderr?.on("data", keep)
  const baseUrl = `http://127.0.0.1:${port}`
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM")
      await new Promise((resolve) => {
        const timer = setTimeout(() => {
          child.kill("SIGKILL")
          resolve(undefined)
        }, 10_000)
        child.once("exit", () => {
          clearTimeout(timer)
          resolve(undefined)
        })
      })
    }
    await database?.drop()
  }
  try {
    await waitUntilLive(baseUrl, child, 60_000)
  } catch (error) {
    await stop()
    throw error
  }
  return { baseUrl, stop }
}
