import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as net from "node:net"
import { fileURLToPath } from "node:url"
import { eventually } from "./Eventually.js"
import { serviceNodeArgs } from "./ServiceEntry.js"
import { baseTestConfig } from "./TestServer.js"

const ROOT = fileURLToPath(new URL("../..", import.meta.url))

const freePort = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    server.close(() => resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0)))
  })
})

export interface Replica {
  readonly baseUrl: string
  readonly process: ChildProcess
  /** Everything the process wrote so far (JSON log lines). */
  readonly output: () => string
}

const probe = (baseUrl: string, replica: ChildProcess) =>
  Effect.promise(async (): Promise<"ready" | "exited" | "starting"> => {
    if (replica.exitCode !== null) return "exited"
    try {
      return (await fetch(`${baseUrl}/health/ready`)).status === 200 ? "ready" : "starting"
    } catch {
      return "starting" // not listening yet
    }
  })

/** Waits (up to 60 s) until the process answers ready or exits. */
const waitReady = (baseUrl: string, replica: ChildProcess) =>
  eventually(probe(baseUrl, replica), (state) => state !== "starting", 60_000)

/** A port freed by `freePort` can be taken by another process before the replica binds it. */
const MAX_LAUNCHES = 3

/**
 * How the process is started: `node` runs it directly; `npm` runs it under `npm exec` in a
 * process group of its own (as a container runtime or a terminal would), so a signal can be
 * sent to the whole group (`signalGroup`) and npm forwards it to node a second time.
 */
export type Launcher = "node" | "npm"

const NODE_ARGS = serviceNodeArgs

/** SIGTERM (or `signal`) to every process of the replica's group, as `kill -- -pgid` does. */
export const signalGroup = (replica: Replica, signal: NodeJS.Signals = "SIGTERM") =>
  Effect.sync(() => process.kill(-replica.process.pid!, signal))

/** Spawns the service on a free port (not yet ready). */
const launchReplica = (databaseUrl: string, env: Record<string, string>, launcher: Launcher) =>
  Effect.gen(function*() {
    const port = yield* freePort
    // An env value may name the replica's own address (e.g. REPLICA_BASE_URL: "{BASE_URL}").
    const own = (value: string) => value.replaceAll("{BASE_URL}", `http://127.0.0.1:${port}`)
    let buffer = ""
    const [command, args] = launcher === "node"
      ? [process.execPath, NODE_ARGS]
      : ["npm", ["exec", "--offline", "--", "node", ...NODE_ARGS]]
    const child = spawn(command, args, {
      cwd: ROOT,
      detached: launcher === "npm",
      env: {
        ...process.env,
        ...baseTestConfig,
        SHUTDOWN_GRACE_SECONDS: "0",
        SHUTDOWN_CALL_DRAIN_SECONDS: "0",
        DATABASE_URL: databaseUrl,
        ...Object.fromEntries(Object.entries(env).map(([name, value]) => [name, own(value)])),
        PORT: String(port),
        HOST: "127.0.0.1"
      },
      stdio: ["ignore", "pipe", "pipe"]
    })
    child.stdout!.on("data", (chunk) => (buffer += chunk))
    child.stderr!.on("data", (chunk) => (buffer += chunk))
    const baseUrl = `http://127.0.0.1:${port}`
    return { baseUrl, process: child, output: () => buffer } satisfies Replica
  })

/**
 * Starts the real service (`src/main.ts`, or its fresh build: see `serviceNodeArgs`) as a separate process against `databaseUrl`,
 * waits until it is ready, and stops it (SIGTERM) when the scope closes. Two of these
 * on one database are how tests prove cross-replica behaviour.
 */
export const startReplica = (databaseUrl: string, env: Record<string, string> = {}, launcher: Launcher = "node") =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      for (let launch = 1;; launch++) {
        const started = yield* launchReplica(databaseUrl, env, launcher)
        const state = yield* waitReady(started.baseUrl, started.process)
        if (state === "ready") return started
        if (state === "starting") {
          if (launcher === "npm") process.kill(-started.process.pid!, "SIGKILL")
          else started.process.kill("SIGKILL")
        }
        // Another process took the port between `freePort` and the replica's listen: another port.
        else if (launch < MAX_LAUNCHES && started.output().includes("EADDRINUSE")) continue
        return yield* Effect.dieMessage(
          state === "exited" ? `replica exited early:\n${started.output()}` : `replica not ready in time:\n${started.output()}`
        )
      }
    }),
    ({ process: child }) =>
      Effect.promise(() =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve()
          child.once("exit", () => resolve())
          child.kill("SIGTERM")
          const kill = () => {
            try {
              if (launcher === "npm") process.kill(-child.pid!, "SIGKILL")
              else child.kill("SIGKILL")
            } catch {
              // already gone
            }
          }
          setTimeout(kill, 30_000).unref()
        })
      )
  )

/**
 * Two replicas of the service on one database, started together (on an empty database,
 * `emptyTestDatabaseUrl`, the migration lock lets exactly one migrate) and stopped when the
 * scope closes.
 */
export const startReplicas = (databaseUrl: string, env: Record<string, string> = {}) =>
  Effect.all([startReplica(databaseUrl, env), startReplica(databaseUrl, env)], { concurrency: 2 })

/** A JSON exchange with a replica over real HTTP. */
export const call = (
  replica: Replica,
  method: string,
  path: string,
  options: { readonly headers?: Record<string, string>; readonly json?: unknown } = {}
) =>
  Effect.promise(async () => {
    const res = await fetch(`${replica.baseUrl}${path}`, {
      method,
      headers: { ...(options.json === undefined ? {} : { "content-type": "application/json" }), ...options.headers },
      body: options.json === undefined ? undefined : JSON.stringify(options.json)
    })
    const text = await res.text()
    let body: any = undefined
    try {
      body = text === "" ? undefined : JSON.parse(text)
    } catch {
      body = undefined
    }
    return { status: res.status, headers: Object.fromEntries(res.headers), body, text }
  })
