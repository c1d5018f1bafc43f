/**
 * How much of the fibers' context one call copies (load-independent): the built service
 * (`node dist/main.js`) runs with bench/map-copies-preload.mjs, which counts the entries of every
 * Map copied by `new Map(aMap)` (Effect's `Context.add`/`Context.merge` on each span, scope,
 * provideService and finalizer). After 10 warm-up calls, 20 calls one at a time as
 * bench/setup.ts places them (webhook, media socket, `start`, greeting, close, record);
 * background loops in the window count too. Analysis worker off.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/context-copies.ts <tree> [tree ...]
 *
 * With MAP_COPIES_STACKS=1 it also prints where the large copies (50+ entries) were made, most frequent first.
 */
import { fileURLToPath } from "node:url"
import * as path from "node:path"
import { freshDatabase, greetedCall, sleep, startBenchModel, startSetUpService, stopService } from "./setup-fixture.js"

const PRELOAD = fileURLToPath(new URL("map-copies-preload.mjs", import.meta.url))
const CALLS = 20

interface Counts {
  readonly copies: number
  readonly entries: number
  readonly large: number
}

const measure = async (tree: string, baseUrl: URL) => {
  const { url, drop } = await freshDatabase(baseUrl, `ssv_context_copies_${Date.now()}`)
  const upstream = await startBenchModel()
  const { base, child } = await startSetUpService({
    tree,
    url: url.toString(),
    args: ["--import", PRELOAD, "dist/main.js"],
    env: upstream.env,
    stdio: ["ignore", "ignore", "pipe"]
  })
  let stderr = ""
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
  const counts = async (): Promise<Counts> => {
    const from = stderr.length
    child.kill("SIGUSR2")
    for (let i = 0; i < 100 && !stderr.slice(from).includes("MAP_COPIES "); i++) await sleep(50)
    return JSON.parse(stderr.slice(from).split("MAP_COPIES ")[1]!.split("\n")[0]!) as Counts
  }
  try {
    let n = Math.floor(Math.random() * 1e6) * 1000
    const oneCall = async () => {
      const { ws } = await greetedCall(base, n++)
      await new Promise<void>((resolve) => {
        ws.once("close", () => resolve())
        ws.close()
      })
      await sleep(300) // the record is written
    }
    for (let i = 0; i < 10; i++) await oneCall()
    await sleep(1000)
    await counts()
    for (let i = 0; i < CALLS; i++) await oneCall()
    const mark = stderr.length
    const c = await counts()
    if (process.env.MAP_COPIES_STACKS === "1") {
      await sleep(300)
      for (const line of stderr.slice(mark).split("\n")) if (line.startsWith("MAP_COPY_SITE ")) console.log(line.slice(14))
    }
    console.log(`${tree}: per call (${CALLS} calls one at a time): ${(c.copies / CALLS).toFixed(1)} Map copies, ` +
      `${(c.entries / CALLS).toFixed(0)} entries copied, ${(c.large / CALLS).toFixed(1)} copies of 50 or more entries`)
  } finally {
    await stopService(child)
    await upstream.close()
    await drop()
  }
}

const main = async () => {
  const baseUrl = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres")
  const trees = process.argv.slice(2).length > 0 ? process.argv.slice(2) : [process.cwd()]
  for (const tree of trees) await measure(path.resolve(tree), baseUrl)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
