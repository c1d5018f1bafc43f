/**
 * The collections in a `--trace-gc-nvp` log (a service's stdout, e.g. bench/setup.ts
 * `--node-flags=--trace-gc-nvp --service-log=FILE`), in a window of the process's time: how many
 * of each kind, their pauses (sum, largest, p90) and what a scavenge copied (survived in the young
 * generation + promoted to the old). Pauses move with the machine's load; bytes do not.
 *
 *   npx tsx bench/gc-pauses.ts FILE [--from-ms=0] [--to-ms=1e12]
 */
import * as fs from "node:fs"
import { type Collection, gcSummary, parseGcLine } from "./gc-trace.js"

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback
const file = process.argv.slice(2).find((a) => !a.startsWith("--"))
if (file === undefined) throw new Error("usage: npx tsx bench/gc-pauses.ts FILE [--from-ms=0] [--to-ms=1e12]")
const fromMs = Number(arg("from-ms", "0"))
const toMs = Number(arg("to-ms", "1e12"))

const collections: Array<Collection> = []
for (const line of fs.readFileSync(file, "utf8").split("\n")) {
  const collection = parseGcLine(line)
  if (collection !== undefined && collection.atMs >= fromMs && collection.atMs <= toMs) collections.push(collection)
}

const kb = (bytes: number) => (bytes / 1024).toFixed(0)
for (const s of gcSummary(collections)) {
  console.log(`${file} gc=${s.kind} (s = scavenge, mc = mark-compact, ...): ${s.count} collections, pause sum ` +
    `${s.pauseSum.toFixed(1)} ms, p50 ${s.p50.toFixed(1)}, p90 ${s.p90.toFixed(1)}, max ` +
    `${s.max.toFixed(1)} ms; copied per collection p50 ${kb(s.copiedP50)} KB, max ` +
    `${kb(s.copiedMax)} KB; allocated ${kb(s.allocated)} KB in all`)
}
