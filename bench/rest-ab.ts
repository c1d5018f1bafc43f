/**
 * Back-to-back CPU per request of the REST list cases for one or more source trees and the
 * bare baseline, on one persistent seeded database (seeded once, reused by every run), with
 * a warm-up before each measurement. For A/B work on the request path; `bench:rest` stays the
 * full benchmark.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
 *     npx tsx bench/rest-ab.ts [tree ...]      trees default to this one; "bare" is the baseline
 *
 *   AB_ROWS=5000 AB_SECONDS=5 AB_ROUNDS=2 AB_RATE=150 AB_CASES=call-logs,voice-sessions,detail,voice-session-detail,status
 *     [,search,search-order,transcript-search,transcript-order,search-middling,search-missing,search-short,
 *     transcript-middling,transcript-missing,transcript-short,transcript-phrase]  (the searches: a dashboard's, so
 *     run them at a person's rate, e.g. AB_RATE=5 and 20, not at the lists' 150)
 *     [,latency,latency-7d,latency-30d,latency-all]  (call-logs/latency per window; AB_RATE=100)
 *     [,call-stats,outcome-stats,outcome-series,eval-stats]  (the statistics; AB_RATE=100)
 *   AB_CONNECTIONS=64 (the generator's keep-alive pool: bench/open-loop.ts)
 *   AB_PROF=dir (service under --cpu-prof; its profile is written when it stops)
 *   AB_GC=1 (every server under --trace-gc-nvp: each line adds the collections during its measurement,
 *     bench/gc-trace.ts: count, pause sum and largest per kind)
 * Each line: the service's CPU per request, its PostgreSQL backends' (pg), the generator's own,
 * and how late the generator sent its requests (its share of p99).
 *   AB_DB=ssv_rest_ab (kept between runs; AB_RESEED=1 drops and seeds it again)
 *   AB_WARMUP=2 (seconds before each measurement; 0: none)
 *   AB_FRESH_TERMS=1 (forget the kept search counts before each case: measures the first
 *     requests of a common word, before and while it is registered)
 */
import type { ChildProcess } from "node:child_process"
import * as os from "node:os"
import * as path from "node:path"
import pg from "pg"
import { openLoop } from "./open-loop.js"
import { seed } from "./seed.js"
import { type Collection, gcSummary, parseGcLine } from "./gc-trace.js"
import { AB_DB as DB, ADMIN_KEY, benchKey, detailPaths, seededUrl, serverBackendCpu, sessionDetailPaths, startBare, startService, stop, TENANT } from "./rest-fixture.js"

const ROWS = Number(process.env.AB_ROWS ?? 5000)
const SECONDS = Number(process.env.AB_SECONDS ?? 5)
const ROUNDS = Number(process.env.AB_ROUNDS ?? 2)
const RATE = Number(process.env.AB_RATE ?? 150)
const WARMUP = Number(process.env.AB_WARMUP ?? 2)
const FRESH_TERMS = process.env.AB_FRESH_TERMS === "1"
const CONNECTIONS = Number(process.env.AB_CONNECTIONS ?? 64)
const CASES = (process.env.AB_CASES ?? "call-logs,voice-sessions,detail,status").split(",")

const prof = process.env.AB_PROF
const GC = process.env.AB_GC === "1"
const gcFlags = GC ? ["--trace-gc-nvp"] : []
const start = (tree: string, url: string) =>
  startService(tree, url, {
    execArgv: [...(prof ? ["--cpu-prof", `--cpu-prof-dir=${prof}`] : []), ...gcFlags],
    stdio: GC ? ["ignore", "pipe", "inherit"] : process.env.AB_LOGS === "1" ? ["ignore", "inherit", "inherit"] : "ignore"
  })

/** The collections a server's `--trace-gc-nvp` output reports, as they come. */
const gcCollections = (child: ChildProcess) => {
  const collections: Array<Collection> = []
  let partial = ""
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n")
    partial = lines.pop()!
    for (const line of lines) {
      const collection = parseGcLine(line)
      if (collection !== undefined) collections.push(collection)
    }
  })
  return collections
}

const gcLine = (collections: ReadonlyArray<Collection>) =>
  collections.length === 0 ? "" : ` gc ${
    gcSummary(collections).map((g) => `${g.kind} ${g.count}x sum ${g.pauseSum.toFixed(1)} ms max ${g.max.toFixed(1)} copied p50 ${(g.copiedP50 / 1024).toFixed(0)} KB`).join(", ")
  } (allocated ${(collections.reduce((a, c) => a + c.allocated, 0) / 1048576).toFixed(0)} MB)`

const main = async () => {
  const adminUrl = process.env.DATABASE_URL
  if (!adminUrl) throw new Error("DATABASE_URL (admin) is required")
  const url = seededUrl()
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  if (process.env.AB_RESEED === "1") await admin.query(`drop database if exists ${DB} with (force)`)
  const exists = (await admin.query("select 1 from pg_database where datname = $1", [DB])).rowCount === 1
  if (!exists) await admin.query(`create database ${DB}`)
  await admin.end()

  const trees = process.argv.slice(2).length > 0 ? process.argv.slice(2) : [process.cwd()]
  const db = new pg.Client({ connectionString: url.toString() })
  await db.connect()
  let key: string
  if (!exists) {
    const { child, port } = await start(trees.find((t) => t !== "bare") ?? process.cwd(), url.toString())
    await fetch(`http://127.0.0.1:${port}/api/v1/admin/tenants/${TENANT}`, {
      method: "PUT",
      headers: { "x-admin-key": ADMIN_KEY, "content-type": "application/json" },
      body: JSON.stringify({ tenant_id: TENANT, auth_token: `${TENANT}-legacy-token-0123456789` })
    })
    const created = await fetch(`http://127.0.0.1:${port}/api/v1/admin/tenants/${TENANT}/api-keys`, {
      method: "POST",
      headers: { "x-admin-key": ADMIN_KEY, "content-type": "application/json" },
      body: "{}"
    }).then((r) => r.json() as Promise<any>)
    key = created.created.token
    await stop(child)
    await seed(url.toString(), [{ tenantId: TENANT, rows: ROWS }])
    await db.query("create table if not exists bench_ab_key (token text)")
    await db.query("insert into bench_ab_key values ($1)", [key])
  } else {
    key = await benchKey(db)
  }
  const ids = await detailPaths(db, 200, true)
  const sessionIds = await sessionDetailPaths(db, 200, true)

  // The bench's common words (each in ~20% of transcripts: the exact count reads every match)
  // and selective order numbers (a few calls each), as in bench/rest.ts.
  const words = ["refund", "invoice", "warranty", "tracking", "exchange"]
  const orders = [1201, 5003, 9107, 14011, 17989].map((n) => encodeURIComponent(`order ${n * 31 + 2},`))
  const middling = ["order 99", "order 98", "order 97", "order 96", "order 95"].map(encodeURIComponent)
  const missing = ["toaster", "kettle", "zebra", "quartz", "walrus"]
  const short = ["xy", "qz", "zz", "kq", "jx"]
  // Phrases of words in every transcript, in none as a whole: the trigram index returns
  // (nearly) every call, each to be rechecked.
  const phrases = ["ing the order", "agent asked", "the details checked", "order the account", "customer confirmed"]
    .map(encodeURIComponent)
  const paths: Record<string, ReadonlyArray<string>> = {
    "call-logs": ["/api/v1/call-logs?limit=50"],
    "voice-sessions": ["/api/v1/voice-sessions?limit=50"],
    detail: ids,
    "voice-session-detail": sessionIds,
    status: ["/status"],
    search: words.map((w) => `/api/v1/voice-sessions?limit=50&search=${w}`),
    "search-order": orders.map((o) => `/api/v1/voice-sessions?limit=50&search=${o}`),
    "transcript-search": words.map((w) => `/api/v1/call-logs?limit=50&transcript_search=${w}`),
    "transcript-order": orders.map((o) => `/api/v1/call-logs?limit=50&transcript_search=${o}`),
    // The other shapes of a search: a middling term (~360 matches of 100,000), a missing one,
    // one or two characters (no trigram).
    "search-middling": middling.map((m) => `/api/v1/voice-sessions?limit=50&search=${m}`),
    "search-missing": missing.map((m) => `/api/v1/voice-sessions?limit=50&search=${m}`),
    "search-short": short.map((m) => `/api/v1/voice-sessions?limit=50&search=${m}`),
    "transcript-middling": middling.map((m) => `/api/v1/call-logs?limit=50&transcript_search=${m}`),
    "transcript-missing": missing.map((m) => `/api/v1/call-logs?limit=50&transcript_search=${m}`),
    "transcript-short": short.map((m) => `/api/v1/call-logs?limit=50&transcript_search=${m}`),
    "transcript-phrase": phrases.map((m) => `/api/v1/call-logs?limit=50&transcript_search=${m}`),
    // call-logs/latency: percentiles of per-call percentiles over a window (bench:rest runs 24h at 100/s).
    latency: ["/api/v1/call-logs/latency"],
    "latency-7d": ["/api/v1/call-logs/latency?window=7d"],
    "latency-30d": ["/api/v1/call-logs/latency?window=30d"],
    "latency-all": ["/api/v1/call-logs/latency?window=all"],
    // The statistics from rollups, default windows (bench:rest runs them at 100/s).
    "call-stats": ["/api/v1/call-logs/stats"],
    "outcome-stats": ["/api/v1/voice-outcomes/stats"],
    "outcome-series": ["/api/v1/voice-outcomes/timeseries"],
    "eval-stats": ["/api/v1/voice-session-evals/stats"]
  }
  const results: Array<string> = []
  for (let round = 1; round <= ROUNDS; round++) {
    for (const tree of trees) {
      const bare = tree === "bare"
      const { child, port } = bare ? await startBare(url.toString(), gcFlags, GC ? "pipe" : "ignore") : await start(tree, url.toString())
      const collections = gcCollections(child)
      const headers: Record<string, string> = bare ? {} : { authorization: `Bearer ${key}` }
      for (const name of CASES) {
        if (FRESH_TERMS) {
          const db = new pg.Client({ connectionString: url.toString() })
          await db.connect()
          await db.query("delete from voice_session_search_terms")
          await db.query("delete from voice_session_search_counts")
          await db.end()
        }
        // Warm-up: JIT and pools, not measured.
        if (WARMUP > 0) await openLoop({ port, pid: child.pid!, paths: paths[name]!, headers, rate: RATE, seconds: WARMUP })
        const pgBefore = await serverBackendCpu(db, child.pid!)
        const gcFrom = collections.length
        const r = await openLoop({ port, pid: child.pid!, paths: paths[name]!, headers, rate: RATE, seconds: SECONDS, connections: CONNECTIONS })
        const pgMs = ((await serverBackendCpu(db, child.pid!) - pgBefore) * 1000) / r.completed
        const line = `round ${round} ${bare ? "bare" : path.basename(tree)} ${name} @${RATE}/s: ` +
          `served ${r.achieved}/s p50 ${r.p50.toFixed(1)} p99 ${r.p99.toFixed(1)} errors ${r.errors} ` +
          `CPU ${r.cpuMsPerRequest.toFixed(3)} ms/req (pg ${pgMs.toFixed(3)}, generator ${r.generatorCpuMsPerRequest.toFixed(3)}, ` +
          `send lag p99 ${r.sendLagP99.toFixed(1)}) load ${os.loadavg()[0]!.toFixed(2)}${gcLine(collections.slice(gcFrom))}`
        console.log(line)
        results.push(line)
      }
      await stop(child)
    }
  }
  await db.end()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
