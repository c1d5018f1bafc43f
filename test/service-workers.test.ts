import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import { availableParallelism } from "node:os"
import * as path from "node:path"
import { replacementDelayMs } from "../src/Cluster/Restarts.js"
import { parseServiceWorkers } from "../src/Config.js"
import { eventually, eventuallyHolds } from "./support/Eventually.js"
import { makeFakeOpenAIRealtime } from "./support/FakeOpenAIRealtime.js"
import { call, type Replica, startReplica } from "./support/Replicas.js"
import { runServiceUntilExit } from "./support/ServiceEntry.js"
import { emptyTestDatabaseUrl, query } from "./support/TestDatabase.js"
import { adminHeaders, bearer } from "./support/TestServer.js"
import { type Refused, TwilioMediaClient } from "./support/TwilioMediaClient.js"

const TOKEN = "workers-token-0123456789"
const promise = <A>(run: () => Promise<A>) => Effect.promise(run)

/** A primary's children (its workers) as the kernel lists them. */
const workerPidsOf = (pid: number): Array<number> => {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(" ").filter((s) => s !== "").map(Number)
  } catch {
    return []
  }
}
const workerPids = (replica: Replica): Array<number> => workerPidsOf(replica.process.pid!)

/** A call (tenant bearer) with its greeting heard; each opens a new connection, so the workers take turns. */
const dial = (replica: Replica, n: number) =>
  Effect.gen(function*() {
    const client = yield* promise(() => TwilioMediaClient.open(`${replica.baseUrl.replace("http", "ws")}/media-stream`, bearer(TOKEN)))
    const callSid = `CAworkers${String(n).padStart(25, "0")}`
    client.connected()
    client.start({ streamSid: `MZworkers${String(n).padStart(25, "0")}`, callSid, customParameters: { direction: "inbound" } })
    yield* promise(() => client.waitFor("the greeting", () => client.of("media").length >= 1))
    return { client, callSid, open: true }
  })

/** How many workers the primary has seen listen on the public port so far. */
const servingLines = (replica: Replica) => replica.output().split("\n").filter((line) => line.includes("worker serving")).length

/** Which replica (worker) holds each live call, from the ledger. */
const holders = (url: string) => query<{ call_sid: string; replica_id: string }>(url, "select call_sid, replica_id from live_calls")

const callLogs = (url: string, callSids: ReadonlyArray<string>) =>
  query<{ call_sid: string; status: string; end_reason: string | null }>(
    url,
    "select call_sid, status, end_reason from call_logs where call_sid = any($1)",
    [callSids]
  )

describe("SERVICE_WORKERS", () => {
  it("is auto (the available cores) or a whole number from 1 to 64", () => {
    expect(parseServiceWorkers("1")).toBe(1)
    expect(parseServiceWorkers(" 2 ")).toBe(2)
    expect(parseServiceWorkers("auto")).toBe(availableParallelism())
    for (const bad of ["0", "65", "1.5", "two", "", "-1"]) expect(parseServiceWorkers(bad)).toBeUndefined()
  })

  it("replaces a lone crash at once and backs off crashes in a row", () => {
    const now = 100_000
    expect(replacementDelayMs([now], now)).toBe(0)
    expect(replacementDelayMs([now - 70_000, now], now)).toBe(0)
    expect(replacementDelayMs([now - 1000, now], now)).toBe(1000)
    expect(replacementDelayMs([now - 3000, now - 2000, now - 1000, now], now)).toBe(4000)
    expect(replacementDelayMs(Array.from({ length: 20 }, (_, i) => now - i), now)).toBe(30_000)
  })

  it.live("a bad value: the service refuses to start, in one line", () =>
    Effect.gen(function*() {
      const result = yield* promise(() =>
        runServiceUntilExit({ PATH: process.env.PATH!, DATABASE_URL: "postgres://127.0.0.1:1/none", PORT: "59998", HOST: "127.0.0.1", SERVICE_WORKERS: "lots" })
      )
      expect(result.code).toBe(1)
      expect(result.stderr.trim().split("\n"), result.stderr).toEqual([
        "stateset-voice cannot start: SERVICE_WORKERS must be auto or a whole number from 1 to 64 (replicas in this process tree)"
      ])
    }), 60_000)

  it.live("workers that cannot start: the primary exits (no restart loop) with their code", () =>
    Effect.gen(function*() {
      // The port is taken: every worker's listen fails.
      const blocker = net.createServer()
      const port = yield* promise(() => new Promise<number>((resolve) => blocker.listen(0, "127.0.0.1", () => resolve((blocker.address() as net.AddressInfo).port))))
      yield* Effect.addFinalizer(() => Effect.sync(() => blocker.close()))
      const url = yield* emptyTestDatabaseUrl
      const result = yield* promise(() =>
        runServiceUntilExit({ PATH: process.env.PATH!, DATABASE_URL: url, PORT: String(port), HOST: "127.0.0.1", SERVICE_WORKERS: "2" }, 40_000)
      )
      expect(result.code, result.stdout + result.stderr).not.toBeNull()
      expect(result.code).not.toBe(0)
      expect(result.stdout).not.toContain("replacing it")
      expect(result.stderr.trim().split("\n"), result.stderr).toEqual([
        `stateset-voice cannot start: a worker exited (code ${result.code}) before serving; its error is logged above`
      ])
    }).pipe(Effect.scoped), 60_000)

  it.live("SIGTERM while the workers are still starting: they stop, none is replaced, and the primary exits 0", () =>
    Effect.gen(function*() {
      const url = yield* emptyTestDatabaseUrl
      const port = yield* promise(() => new Promise<number>((resolve) => {
        const probe = net.createServer().listen(0, "127.0.0.1", () => {
          const { port } = probe.address() as net.AddressInfo
          probe.close(() => resolve(port))
        })
      }))
      // The signal goes to the primary once it has forked both workers, while they still load
      // (no handler of their own yet): each dies of the forwarded signal.
      const result = yield* promise(() =>
        runServiceUntilExit(
          { PATH: process.env.PATH!, DATABASE_URL: url, PORT: String(port), HOST: "127.0.0.1", SERVICE_WORKERS: "2" },
          40_000,
          (child) => {
            const poll = setInterval(() => {
              if (workerPidsOf(child.pid!).length < 2) return
              clearInterval(poll)
              child.kill("SIGTERM")
            }, 5)
            child.once("exit", () => clearInterval(poll))
          }
        )
      )
      expect(result.code, result.stdout + result.stderr).toBe(0)
      expect(result.stdout).not.toContain("worker serving")
      expect(result.stdout).not.toContain("replacing it")
      expect(result.stdout).toContain("all workers stopped")
      expect(result.stderr).toBe("")
    }).pipe(Effect.scoped), 60_000)

  it.live("two workers on a fresh database: both serve calls, a killed one is replaced and its calls reaped, SIGTERM drains both", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeOpenAIRealtime
      const url = yield* emptyTestDatabaseUrl
      const replica = yield* startReplica(url, {
        OPENAI_BASE_URL: fake.url,
        OPENAI_API_KEY: "sk-workers",
        SERVICE_WORKERS: "2",
        SHUTDOWN_CALL_DRAIN_SECONDS: "60",
        MEDIA_HEARTBEAT_SECONDS: "1",
        MEDIA_REAP_AFTER_SECONDS: "3"
      })
      // Ready is one worker answering; the other may still be starting (not yet given connections).
      yield* eventuallyHolds(Effect.sync(() => servingLines(replica)), (n) => n === 2, 30_000)
      const [first, second] = workerPids(replica)
      expect([first, second].every((pid) => pid !== undefined)).toBe(true)
      const put = yield* call(replica, "PUT", "/api/v1/admin/tenants/acme", { headers: adminHeaders, json: { tenant_id: "acme", auth_token: TOKEN } })
      expect(put.status).toBe(200)

      // Calls land on both workers: two replica ids in the ledger.
      const calls = [yield* dial(replica, 1), yield* dial(replica, 2), yield* dial(replica, 3), yield* dial(replica, 4)]
      const before = yield* eventually(holders(url), (rows) => rows.length === 4)
      const original = new Set(before.map((row) => row.replica_id))
      expect(original.size).toBe(2)

      // One worker dies outright: its calls drop, the other worker reaps them, the primary forks a new one.
      process.kill(first!, "SIGKILL")
      yield* eventuallyHolds(Effect.sync(() => calls.filter((c) => c.client.isClosed).length), (n) => n === 2, 10_000)
      for (const c of calls) c.open = !c.client.isClosed
      const droppedSids = calls.filter((c) => !c.open).map((c) => c.callSid)
      const reaped = yield* eventually(callLogs(url, droppedSids), (rows) => rows.length === 2 && rows.every((r) => r.status === "failed"), 20_000)
      expect(reaped.map((r) => r.status)).toEqual(["failed", "failed"])
      const replaced = yield* eventually(Effect.sync(() => workerPids(replica)), (pids) => pids.length === 2 && !pids.includes(first!), 20_000)
      expect(replaced).toContain(second)
      expect(replica.output()).toContain("worker exited while serving; replacing it")
      // The new worker listens (the primary then hands it connections too).
      yield* eventuallyHolds(Effect.sync(() => servingLines(replica)), (n) => n === 3, 30_000)
      yield* eventuallyHolds(call(replica, "GET", "/health/ready"), (res) => res.status === 200)

      // The new worker takes calls too (a replica id not seen before).
      // (The primary hands connections to the workers in turn, but health probes take turns too: dial until one lands.)
      let ids = new Set<string>()
      for (let n = 5; n <= 12 && ids.size < 2; n++) {
        calls.push(yield* dial(replica, n))
        const after = yield* eventually(holders(url), (rows) => rows.length === calls.filter((c) => c.open).length)
        ids = new Set(after.map((row) => row.replica_id))
      }
      expect(ids.size).toBe(2)
      expect([...ids].filter((id) => !original.has(id))).toHaveLength(1)

      // SIGTERM to the primary: every worker drains (readiness 503, no new call), live calls run on.
      replica.process.kill("SIGTERM")
      yield* eventuallyHolds(call(replica, "GET", "/health/ready"), (res) => res.status === 503)
      const refused = yield* promise(() =>
        TwilioMediaClient.open(`${replica.baseUrl.replace("http", "ws")}/media-stream`, bearer(TOKEN)).then(() => undefined, (error: Refused) => error)
      )
      expect(refused?.status).toBe(503)
      const open = calls.filter((c) => c.open)
      for (const { client } of open) client.media(Buffer.alloc(160, 0x33))
      yield* promise(() => fake.waitFor("caller audio after the signal", () => fake.connections.filter((c) => c.appended.length >= 1).length === open.length))

      // They end on their own, are recorded once each, and then the workers and the primary exit.
      for (const { client } of open) client.stop()
      const logs = yield* eventually(callLogs(url, open.map((c) => c.callSid)), (rows) => rows.length === open.length && rows.every((r) => r.end_reason === "stop"), 20_000)
      expect(logs.map((r) => r.status)).toEqual(open.map(() => "completed"))
      yield* eventuallyHolds(Effect.sync(() => replica.process.exitCode), (code) => code !== null, 20_000)
      expect(replica.process.exitCode).toBe(0)
      expect(replica.output().split("\n").filter((line) => line.includes("draining before shutdown"))).toHaveLength(2)
      expect(replica.output()).toContain("all workers stopped")
    }).pipe(Effect.scoped), 120_000)

  it.live("without DATABASE_URL the primary starts the embedded PostgreSQL once, for both workers, and stops it after them", () =>
    Effect.gen(function*() {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ssv-workers-"))
      fs.chmodSync(dataDir, 0o777)
      const pgDir = path.join(dataDir, "pg")
      const replica = yield* Effect.scoped(Effect.gen(function*() {
        const replica = yield* startReplica("", { DATABASE_URL: "", EMBEDDED_PG_DATA_DIR: pgDir, SERVICE_WORKERS: "2" })
        // Both workers up (the first ready one answers the readiness probe alone).
        yield* eventually(Effect.sync(() => replica.output().split("\n").filter((line) => line.includes("worker serving")).length), (n) => n === 2, 60_000)
        const put = yield* call(replica, "PUT", "/api/v1/admin/tenants/kept", { headers: adminHeaders, json: { tenant_id: "kept" } })
        expect(put.status).toBe(200)
        // Both workers (each its own connection) read what one wrote: one database.
        for (let i = 0; i < 4; i++) {
          const res = yield* promise(() => fetch(`${replica.baseUrl}/api/v1/admin/tenants/kept`, { headers: { ...adminHeaders, connection: "close" } }))
          expect(res.status).toBe(200)
        }
        return replica
      }))
      // What the processes said, when they did not end cleanly (a CI log is all there is).
      if (replica.process.exitCode !== 0) console.log("replica output:", replica.process.exitCode, replica.process.signalCode, replica.output())
      expect(replica.process.exitCode).toBe(0)
      expect(replica.output().split("\n").filter((line) => line.includes("embedded PostgreSQL started"))).toHaveLength(1)
      // Stopped after the workers: its lock file is gone.
      expect(fs.readdirSync(pgDir, { recursive: true }).some((name) => String(name).endsWith("postmaster.pid"))).toBe(false)
      yield* promise(() => fs.promises.rm(dataDir, { recursive: true, force: true }))
    }), 120_000)
})
