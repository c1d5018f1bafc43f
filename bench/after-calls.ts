/**
 * Does the service keep anything per call once the call is over? The built service takes rounds
 * of greeted calls (webhook, media stream, greeting, hang-up); after each round, once its calls are
 * recorded and the ledger is empty, a full collection through the inspector and the V8 heap used
 * and RSS. A leak shows as heap growing with the calls taken; the slope is over the rounds after
 * the first (the first includes JIT code and caches filled once).
 *
 *   npx tsc -p tsconfig.build.json && DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
 *     npx tsx bench/after-calls.ts [--rounds=5] [--calls=150] [--rate=25]
 */
import { fileURLToPath } from "node:url"
import pg from "pg"
import { Inspector } from "./heap.js"
import { freePort, machine } from "./proc.js"
import { arg, BURST_ENV, freshDatabase, greetedBursts, sleep, startBenchModel, startSetUpService, stopService } from "./setup-fixture.js"

const ROOT = fileURLToPath(new URL("..", import.meta.url))
const rounds = Number(arg("rounds", "5"))
const calls = Number(arg("calls", "150"))
const rate = Number(arg("rate", "25"))

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)

const main = async () => {
  const db = await freshDatabase(new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"), `ssv_after_calls_${process.pid}`)
  const model = await startBenchModel()
  const inspectPort = await freePort()
  const { base, child } = await startSetUpService({
    tree: ROOT,
    url: db.url.toString(),
    args: [`--inspect=127.0.0.1:${inspectPort}`, "dist/main.js"],
    env: { ...BURST_ENV, ...model.env }
  })
  const inspector = await Inspector.open(inspectPort)
  const service = new pg.Client({ connectionString: db.url.toString() })
  await service.connect()
  const settledUsage = async () => {
    // The round's calls recorded and gone from the ledger (30 s at most), then two full collections.
    for (let i = 0; i < 120; i++) {
      const left = await service.query(`select (select count(*) from live_calls)::int + (select count(*) from call_admissions)::int as n`)
      if (left.rows[0].n === 0) break
      await sleep(250)
    }
    await sleep(1000)
    await inspector.collect()
    await inspector.collect()
    return inspector.usage()
  }
  try {
    const m = machine()
    console.log(`machine: ${m.nproc} cpus, ${m.model}, node ${m.node}, loadavg at start ${m.loadavg}`)
    console.log(`${rounds} rounds of ${calls} greeted calls at ${rate}/s, built service; after each: recorded, ledger empty, full GC\n`)
    console.log("| calls taken | failed | V8 heap used MB | RSS MB | external MB |")
    console.log("|---|---|---|---|---|")
    const start = await settledUsage()
    console.log(`| 0 | - | ${mb(start.heapUsed)} | ${mb(start.rss)} | ${mb(start.external)} |`)
    const burst = greetedBursts(base)
    const heaps: Array<{ taken: number; heapUsed: number }> = []
    for (let round = 1; round <= rounds; round++) {
      const results = await burst(calls, rate)
      let failed = 0
      for (const r of results) "error" in r ? failed++ : r.ws.close()
      const usage = await settledUsage()
      heaps.push({ taken: round * calls, heapUsed: usage.heapUsed })
      console.log(`| ${round * calls} | ${failed} | ${mb(usage.heapUsed)} | ${mb(usage.rss)} | ${mb(usage.external)} |`)
    }
    if (heaps.length >= 3) {
      const [first, last] = [heaps[0]!, heaps.at(-1)!]
      const perCall = (last.heapUsed - first.heapUsed) / (last.taken - first.taken)
      console.log(`\nheap used after GC from round 1 to round ${rounds}: ${(perCall / 1024).toFixed(2)} KB per call taken`)
    }
  } finally {
    inspector.close()
    await service.end()
    await stopService(child)
    await model.close()
    await db.drop()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
