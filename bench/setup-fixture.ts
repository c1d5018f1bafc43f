/**
 * What the call set-up tools share (bench/setup-ops.ts, webhook-ab.ts, setup-ab.ts, context-copies.ts,
 * analysis-cpu.ts): a tree's service started (from source, or as `args` say) on a database of its own,
 * with the environment a set-up bench needs, and the `bench` tenant (Twilio account of bench/twilio-call.ts)
 * with a published agent; the fake model, calls placed up to their greeting, the command line's
 * `--name=value` options and the statements a run's database logged.
 */
import { type ChildProcess, spawn, type StdioOptions } from "node:child_process"
import * as fs from "node:fs"
import { performance } from "node:perf_hooks"
import pg from "pg"
import { WebSocket } from "ws"
import { freePort } from "./proc.js"
import { startFakeModel } from "./setup-model.js"
import { ACCOUNT, ringWebhook, sendStart } from "./twilio-call.js"

export const ADMIN_KEY = "bench-admin-key-0123456789abcdef"

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))

/** The value of the command line's `--name=value`, or `fallback`. */
export const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback

/** The service's admission limits lifted, so a burst of calls is measured rather than refused. */
export const BURST_ENV = {
  MEDIA_MAX_PENDING_BOOTSTRAP: "5000",
  // Every simulated call comes from 127.0.0.1; Twilio's come from many addresses.
  MEDIA_MAX_PENDING_PER_ADDRESS: "5000",
  MAX_CONCURRENT_REQUESTS_PER_ADDRESS: "5000",
  TENANT_MAX_CONCURRENT_CALLS: "100000",
  MAX_CALLS_PER_REPLICA: "100000"
}

/** Database `name`, made on the server of `baseUrl`: its URL, the admin connection that made it, and its drop. */
export const freshDatabase = async (baseUrl: URL, name: string) => {
  const admin = new pg.Client({ connectionString: baseUrl.toString() })
  await admin.connect()
  await admin.query(`create database ${name}`)
  const url = new URL(baseUrl)
  url.pathname = `/${name}`
  const drop = async () => {
    await admin.query(`drop database if exists ${name} with (force)`)
    await admin.end()
  }
  return { admin, url, drop }
}

/** The fake model (bench/setup-model.ts, greeting on `response.create`) and the service environment that points at it. */
export const startBenchModel = async () => {
  const upstream = await startFakeModel(await freePort(), "response.create", () => {})
  return {
    close: () => upstream.close(),
    env: {
      OPENAI_BASE_URL: `http://127.0.0.1:${upstream.port}/v1`,
      UPSTREAM_URL: `ws://127.0.0.1:${upstream.port}/v1/realtime?model=gpt-realtime`
    }
  }
}

/**
 * Call `n` as Twilio places it (signed webhook, media socket, `start`) up to the greeting's first
 * audio: the open socket, and the ms from sending the webhook to its answer and to the greeting.
 * `afterWebhook` runs between the webhook's answer and the socket. Fails if the socket closes
 * first or no greeting comes within 30 s.
 */
export const greetedCall = async (base: string, n: number, afterWebhook?: () => Promise<void>) => {
  const t0 = performance.now()
  const { callSid, stream, custom } = await ringWebhook(base, n)
  const webhook = performance.now() - t0
  if (afterWebhook !== undefined) await afterWebhook()
  const ws = new WebSocket(stream)
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => sendStart(ws, n, callSid, custom))
    ws.on("message", (data) => {
      if (JSON.parse(data.toString()).event === "media") resolve()
    })
    ws.once("error", reject)
    ws.once("close", () => reject(new Error("closed before the greeting")))
    setTimeout(() => reject(new Error("no greeting in 30 s")), 30_000).unref()
  })
  return { ws, webhook, greeting: performance.now() - t0 }
}

/**
 * Bursts of greeted calls to `base`, open loop: `count` calls arriving at `perSecond`, numbered
 * on from a random start (no two bursts share a call SID); a call that failed is its error.
 */
export const greetedBursts = (base: string) => {
  let n = Math.floor(Math.random() * 1e6) * 1000
  return (count: number, perSecond: number) => {
    const start = performance.now()
    return Promise.all(Array.from({ length: count }, async (_, i) => {
      await sleep(start + (i * 1000) / perSecond - performance.now())
      return greetedCall(base, n++).catch((error) => ({ error: String(error) }))
    }))
  }
}

/** The server log `pgLog` after byte `offset`, one entry per log line header with its continuation lines joined. */
const logEntries = (pgLog: string, offset: number) => {
  const fd = fs.openSync(pgLog, "r")
  const buffer = Buffer.alloc(fs.fstatSync(fd).size - offset)
  fs.readSync(fd, buffer, 0, buffer.length, offset)
  fs.closeSync(fd)
  const entries: Array<string> = []
  for (const line of buffer.toString("utf8").split("\n")) {
    if (/^\d{4}-\d\d-\d\d /.test(line)) entries.push(line)
    else if (entries.length > 0) entries[entries.length - 1] += ` ${line}`
  }
  return entries
}

/**
 * The statements `database` logged (log_statement = 'all') in the server log `pgLog` after byte
 * `offset`, those `keep` accepts: how many, and each text (first 90 characters) with its count,
 * commonest first.
 */
export const loggedStatements = (pgLog: string, offset: number, database: string, keep: (entry: string) => boolean = () => true) => {
  const entries = logEntries(pgLog, offset)
  const mine = entries.filter((l) => l.includes(`@${database} LOG:`) && /LOG:\s+(statement|execute)/.test(l) && keep(l))
  const kinds = new Map<string, number>()
  for (const l of mine) {
    const text = l.replace(/^.*LOG:\s+(statement|execute[^:]*):\s*/, "").replace(/\s+/g, " ").slice(0, 90)
    kinds.set(text, (kinds.get(text) ?? 0) + 1)
  }
  return { total: mine.length, kinds: [...kinds].sort((a, b) => b[1] - a[1]) }
}

const admin = async (base: string, method: string, p: string, json?: unknown) => {
  const res = await fetch(`${base}/api/v1/admin/tenants/bench${p}`, {
    method,
    headers: { "content-type": "application/json", "x-admin-key": ADMIN_KEY },
    body: json === undefined ? undefined : JSON.stringify(json)
  })
  if (res.status !== 200) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`)
  return res.json() as Promise<{ agent?: { id: string }; version?: { id: string } }>
}

/** The `bench` tenant with its Twilio account, and `settings` (e.g. a `webhook_url`). */
export const putBenchTenant = (base: string, settings: Record<string, unknown> = {}) =>
  admin(base, "PUT", "", { tenant_id: "bench", twilio: { account_sid: ACCOUNT.sid, auth_token: ACCOUNT.token }, ...settings })

/**
 * The `bench` tenant and, once per database (a later rate's service starts on the same one), its
 * default agent with a published version, so each call resolves one as a real tenant's does.
 */
export const benchTenantWithAgent = async (base: string) => {
  await putBenchTenant(base)
  const existing = await fetch(`${base}/api/v1/admin/tenants/bench/agents`, { headers: { "x-admin-key": ADMIN_KEY } })
  const { agents } = (await existing.json()) as { agents?: Array<unknown> }
  if ((agents ?? []).length > 0) return
  const agent = (await admin(base, "POST", "/agents", { agent_key: "default", name: "Bench" })).agent!
  const version = (await admin(base, "POST", "/agent-versions", { agent_id: agent.id, config: { instructions: "Be brief." } })).version!
  await admin(base, "POST", `/agent-versions/${version.id}/publish`)
}

export interface SetUpService {
  readonly base: string
  readonly child: ChildProcess
}

/**
 * The service (`entry`: src/main.ts or a bench supervisor) on `url`, ready, with the tenant and
 * its agent set up. `env` adds to (or overrides) the set-up environment. The caller stops it.
 */
export const startSetUpService = async (options: {
  readonly tree: string
  readonly url: string
  readonly entry?: string
  /** Node's arguments, when not `--import tsx <entry>` (e.g. `dist/main.js` with a preload). */
  readonly args?: ReadonlyArray<string>
  readonly env?: NodeJS.ProcessEnv
  readonly stdio?: StdioOptions
}): Promise<SetUpService> => {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const child = spawn(process.execPath, options.args ?? ["--import", "tsx", options.entry ?? "src/main.ts"], {
    cwd: options.tree,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      PUBLIC_BASE_URL: base,
      DATABASE_URL: options.url,
      ADMIN_API_KEY: ADMIN_KEY,
      OPENAI_API_KEY: "sk-bench",
      RATE_LIMIT_PER_IP_PER_MINUTE: "100000000",
      RATE_LIMIT_PER_TENANT_PER_MINUTE: "100000000",
      SHUTDOWN_GRACE_SECONDS: "0",
      SHUTDOWN_CALL_DRAIN_SECONDS: "0",
      OTEL_EXPORTER_OTLP_ENDPOINT: "",
      // Analysis jobs of earlier calls (failing against a fake model) would retry inside the windows.
      ANALYSIS_WORKER_ENABLED: "false",
      ...options.env
    },
    stdio: options.stdio ?? "ignore"
  })
  try {
    for (let i = 0; !(await fetch(`${base}/health/ready`).then((r) => r.status === 200, () => false)); i++) {
      if (child.exitCode !== null || i > 600) throw new Error(`${options.tree}: the service did not start`)
      await sleep(250)
    }
    await putBenchTenant(base)
    const agent = (await admin(base, "POST", "/agents", { agent_key: "default", name: "Bench" })).agent!
    const version = (await admin(base, "POST", "/agent-versions", { agent_id: agent.id, config: { instructions: "Be brief." } })).version!
    await admin(base, "POST", `/agent-versions/${version.id}/publish`)
    return { base, child }
  } catch (error) {
    await stopService(child)
    throw error
  }
}

export const stopService = async (child: ChildProcess) => {
  child.kill("SIGTERM")
  await new Promise((resolve) => child.exitCode !== null ? resolve(undefined) : child.once("exit", resolve))
}

/**
 * The durations (log_min_duration_statement = 0) `database` logged in `pgLog` after byte `offset`,
 * per statement text (first 70 characters): count, p50, p99 and total ms, largest total first. With
 * the extended protocol a logged duration is the statement's run (lock waits included), not its
 * commit (at Sync, after the log line).
 */
export const loggedDurations = (pgLog: string, offset: number, database: string) => {
  const byText = new Map<string, Array<number>>()
  for (const entry of logEntries(pgLog, offset)) {
    const m = entry.includes(`@${database} LOG:`) ? /LOG:\s+duration: ([\d.]+) ms\s+(?:statement|execute[^:]*): (.*)$/s.exec(entry) : null
    if (m === null) continue
    const text = m[2]!.replace(/\s+/g, " ").trim().slice(0, 70)
    const list = byText.get(text) ?? []
    list.push(Number(m[1]))
    byText.set(text, list)
  }
  const at = (sorted: Array<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!
  return [...byText].map(([text, ms]) => {
    const sorted = [...ms].sort((a, b) => a - b)
    return { text, count: ms.length, p50: at(sorted, 0.5), p99: at(sorted, 0.99), total: ms.reduce((a, b) => a + b, 0) }
  }).sort((a, b) => b.total - a.total)
}

