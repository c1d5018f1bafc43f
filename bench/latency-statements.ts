/**
 * PostgreSQL time of the call-logs/latency report per window, as the service runs it (its repo,
 * its prepared statement, one connection at a time), for a tree: the client-visible ms of `RUNS`
 * sequential reports after a warm-up, with percentiles, and each window's report written to
 * `OUT/<label>-<window>.json` so two trees' answers can be compared.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/ssv_latroll_copy \
 *     npx tsx bench/latency-statements.ts <tree> <label> [windows]   (windows default 24h,7d,30d,all)
 *   RUNS=40 TENANT=bench-large OUT=/tmp/latency-reports
 * Starting a tree migrates the database to it (0036 with its backfill, for a tree that has it).
 */
import * as fs from "node:fs"
import * as path from "node:path"

const tree = path.resolve(process.argv[2] ?? ".")
const label = process.argv[3] ?? path.basename(tree)
const windows = (process.argv[4] ?? "24h,7d,30d,all").split(",")
const RUNS = Number(process.env.RUNS ?? 40)
const TENANT = process.env.TENANT ?? "bench-large"
const OUT = process.env.OUT ?? "/tmp/latency-reports"
const SPANS: Record<string, number | null> = { "24h": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000, all: null }

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!

const main = async () => {
  const { Effect, Layer, ManagedRuntime } = await import("effect")
  const { InfrastructureLive } = await import(path.join(tree, "src/Services.ts"))
  const { Migrations } = await import(path.join(tree, "src/Database/Migrations.ts"))
  const { CallLatencyRepo } = await import(path.join(tree, "src/CallLogs/LatencyRepo.ts"))
  const rollupPath = path.join(tree, "src/CallLogs/LatencyRollup.ts")
  const rollup = fs.existsSync(rollupPath) ? (await import(rollupPath)).CallLatencyRollup : undefined
  const layer = Layer.mergeAll(CallLatencyRepo.Default, ...(rollup ? [rollup.Default] : [])).pipe(Layer.provideMerge(InfrastructureLive))
  const runtime = ManagedRuntime.make(layer as import("effect").Layer.Layer<unknown>)
  const migrateStart = Date.now()
  await runtime.runPromise(Effect.flatMap(Migrations, (m: any) => m.awaitApplied))
  console.log(`${label}: migrated in ${Date.now() - migrateStart} ms`)
  fs.mkdirSync(OUT, { recursive: true })
  for (const window of windows) {
    const span = SPANS[window]
    const rolled = rollup !== undefined && (window === "30d" || window === "all")
    const once = () => {
      const since = span === null ? null : new Date(Date.now() - span)
      return rolled
        ? Effect.flatMap(rollup, (r: any) => r.report(TENANT, since, 10, window))
        : Effect.flatMap(CallLatencyRepo, (r: any) => r.report(TENANT, since, 10, window === "24h" ? "hour" : "day", window))
    }
    for (let i = 0; i < 5; i++) await runtime.runPromise(once())
    const times: Array<number> = []
    let last: unknown
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now()
      last = await runtime.runPromise(once())
      times.push(performance.now() - t)
    }
    times.sort((a, b) => a - b)
    // The rolled-up answer against the scan's, a moment apart (the seeded calls are minutes apart).
    if (rolled) {
      const since = span === null ? null : new Date(Date.now() - span)
      const [a, b] = await runtime.runPromise(Effect.all([
        Effect.flatMap(rollup, (r: any) => r.report(TENANT, since, 10, window)),
        Effect.flatMap(CallLatencyRepo, (r: any) => r.report(TENANT, since, 10, "day", window))
      ]))
      console.log(`${label} ${window}: rollup ${JSON.stringify(a) === JSON.stringify(b) ? "EQUALS" : "DIFFERS FROM"} the scan`)
    }
    fs.writeFileSync(path.join(OUT, `${label}-${window}.json`), JSON.stringify(last))
    const f = (n: number) => n.toFixed(2)
    console.log(`${label} ${window}${rolled ? " (rollup)" : " (scan)"}: min ${f(times[0]!)} p50 ${f(percentile(times, 0.5))} p90 ${f(percentile(times, 0.9))} max ${f(times[times.length - 1]!)} ms over ${RUNS} (load ${fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")})`)
  }
  await runtime.dispose()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
