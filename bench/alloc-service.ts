/**
 * Bytes the service allocates per request of a list page, from V8's own GC trace: the service
 * runs under `--trace-gc`; between two collections it allocated (heap used before the second)
 * minus (heap used after the first). Summed over the collections of a run of sequential
 * requests and divided by their count (the partial intervals at the ends: +-2 collections of
 * ~100). Allocation hardly depends on load, so base and branch can be compared on a busy box.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres AB_DB=ssv_rest_100k \
 *     npx tsx bench/alloc-service.ts [tree ...]   ALLOC_REQUESTS=3000 ALLOC_CASES=call-logs,voice-sessions
 *   (the statistics: ALLOC_CASES=call-stats,outcome-stats,outcome-series,eval-stats; the details:
 *   ALLOC_CASES=detail,voice-session-detail; the floor of any tenant request: ALLOC_CASES=status)
 */
import * as fs from "node:fs"
import pg from "pg"
import { Inspector } from "./heap.js"
import { benchKey, detailPaths, keepAliveGet, seededUrl, sessionDetailPaths, startService, stop } from "./rest-fixture.js"

const REQUESTS = Number(process.env.ALLOC_REQUESTS ?? 3000)
const PATHS: Record<string, ReadonlyArray<string>> = {
  "call-logs": ["/api/v1/call-logs?limit=50"],
  "voice-sessions": ["/api/v1/voice-sessions?limit=50"],
  "call-stats": ["/api/v1/call-logs/stats"],
  "outcome-stats": ["/api/v1/voice-outcomes/stats"],
  "outcome-series": ["/api/v1/voice-outcomes/timeseries"],
  "eval-stats": ["/api/v1/voice-session-evals/stats"],
  status: ["/status"]
}
const CASES = (process.env.ALLOC_CASES ?? "call-logs,voice-sessions").split(",")
/** ALLOC_PROFILE=dir: a sampling heap profile (collected objects included) of the counted requests, per case and tree. */
const PROFILE_DIR = process.env.ALLOC_PROFILE
const INSPECT_PORT = 9339
const GC_LINE = /(Scavenge|Mark-Compact)[^\d]*([\d.]+) \([\d.]+\) -> ([\d.]+) \(/

const main = async () => {
  const url = seededUrl().toString()
  const db = new pg.Client({ connectionString: url })
  await db.connect()
  const key = await benchKey(db)
  // The details: 200 of the tenant's calls and sessions, taken in turn.
  PATHS.detail = await detailPaths(db, 200, true)
  PATHS["voice-session-detail"] = await sessionDetailPaths(db, 200, true)
  await db.end()
  const trees = process.argv.slice(2).length > 0 ? process.argv.slice(2) : [process.cwd()]
  for (const name of CASES) {
    for (const tree of trees) {
      const service = await startService(tree, url, { execArgv: ["--trace-gc", ...(PROFILE_DIR ? [`--inspect=127.0.0.1:${INSPECT_PORT}`] : [])], stdio: ["ignore", "pipe", "ignore"] })
      const collections: Array<{ before: number; after: number }> = []
      let counting = false
      let marks = 0
      service.child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
        for (const line of chunk.split("\n")) {
          const m = GC_LINE.exec(line)
          if (m && counting) collections.push({ before: Number(m[2]), after: Number(m[3]) })
          if (m && counting && m[1] === "Mark-Compact") marks++
        }
      })
      const { get, agent } = keepAliveGet(key)
      const paths = PATHS[name]!
      for (let i = 0; i < 300; i++) await get(service.port, paths[i % paths.length]!)
      const inspector = PROFILE_DIR ? await Inspector.open(INSPECT_PORT) : undefined
      await inspector?.call("HeapProfiler.startSampling", {
        samplingInterval: 1024,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true
      })
      counting = true
      for (let i = 0; i < REQUESTS; i++) await get(service.port, paths[i % paths.length]!)
      counting = false
      agent.destroy()
      if (inspector !== undefined) {
        const { profile } = await inspector.call("HeapProfiler.stopSampling")
        fs.writeFileSync(`${PROFILE_DIR}/${name}-${tree.replace(/\W+/g, "_")}.heapprofile`, JSON.stringify(profile))
        inspector.close()
      }
      let allocatedMb = 0
      for (let i = 1; i < collections.length; i++) allocatedMb += collections[i]!.before - collections[i - 1]!.after
      const perRequestKb = (allocatedMb * 1024) / REQUESTS * (collections.length / Math.max(1, collections.length - 1))
      console.log(`${name} ${tree}: ${perRequestKb.toFixed(0)} KB allocated per request (${collections.length} collections over ${REQUESTS} requests, ${marks} mark-compact)`)
      await stop(service.child)
    }
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
