/**
 * What the call set-up tools share (bench/setup-ops.ts, webhook-ab.ts, setup-ab.ts, context-copies.ts): a tree's service
 * started (from source, or as `args` say) on a database of its own, with the environment a set-up bench needs,
 * and the `bench` tenant (Twilio account of bench/twilio-call.ts) with a published agent.
 */
import { type ChildProcess, spawn, type StdioOptions } from "node:child_process"
import { freePort } from "./proc.js"
import { ACCOUNT } from "./twilio-call.js"

export const ADMIN_KEY = "bench-admin-key-0123456789abcdef"

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const admin = async (base: string, method: string, p: string, json?: unknown) => {
  const res = await fetch(`${base}/api/v1/admin/tenants/bench${p}`, {
    method,
    headers: { "content-type": "application/json", "x-admin-key": ADMIN_KEY },
    body: json === undefined ? undefined : JSON.stringify(json)
  })
  if (res.status !== 200) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`)
  return res.json() as Promise<{ agent?: { id: string }; version?: { id: string } }>
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
    await admin(base, "PUT", "", { tenant_id: "bench", twilio: { account_sid: ACCOUNT.sid, auth_token: ACCOUNT.token } })
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
