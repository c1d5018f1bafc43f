/**
 * The collections in a `--trace-gc-nvp` log (a service's stdout, e.g. bench/setup.ts
 * `--node-flags=--trace-gc-nvp --service-log=FILE`), in a window of the process's time: how many
 * of each kind, their pauses (sum, largest, p90) and what a scavenge copied (survived in the young
 * generation + promoted to the old). Pauses move with the machine's load; bytes do not.
 *
 *   npx tsx bench/gc-pauses.ts FILE [--from-ms=0] [--to-ms=1e12]
 */
import * as fs from "node:fs"

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback
const file = process.argv.slice(2).find((a) => !a.startsWith("--"))
if (file === undefined) throw new Error("usage: npx tsx bench/gc-pauses.ts FILE [--from-ms=0] [--to-ms=1e12]")
const fromMs = Number(arg("from-ms", "0"))
const toMs = Number(arg("to-ms", "1e12"))

interface Collection { readonly atMs: number; readonly kind: string; readonly pause: number; readonly copied: number; readonly allocated: number }
const field = (line: string, name: string) => Number(new RegExp(`\\b${name}=([\\d.]+)`).exec(line)?.[1] ?? NaN)
const collections: Array<Collection> = []
for (const line of fs.readFileSync(file, "utf8").split("\n")) {
  const at = /\s(\d+) ms: pause=/.exec(line)
  const kind = /\bgc=(\w+)/.exec(line)?.[1]
  if (at === null || kind === undefined) continue
  const atMs = Number(at[1])
  if (atMs < fromMs || atMs > toMs) continue
  collections.push({
    atMs,
    kind,
    pause: field(line, "pause"),
    copied: (field(line, "new_space_survived") || 0) + (field(line, "promoted") || 0),
    allocated: field(line, "allocated") || 0
  })
}

const pct = (values: Array<number>, p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}
for (const kind of [...new Set(collections.map((c) => c.kind))]) {
  const of = collections.filter((c) => c.kind === kind)
  const pauses = of.map((c) => c.pause)
  const kb = (bytes: number) => (bytes / 1024).toFixed(0)
  console.log(`${file} gc=${kind} (s = scavenge, mc = mark-compact, ...): ${of.length} collections, pause sum ` +
    `${pauses.reduce((a, b) => a + b, 0).toFixed(1)} ms, p50 ${pct(pauses, 50).toFixed(1)}, p90 ${pct(pauses, 90).toFixed(1)}, max ` +
    `${Math.max(...pauses).toFixed(1)} ms; copied per collection p50 ${kb(pct(of.map((c) => c.copied), 50))} KB, max ` +
    `${kb(Math.max(...of.map((c) => c.copied)))} KB; allocated ${kb(of.reduce((a, c) => a + c.allocated, 0))} KB in all`)
}
