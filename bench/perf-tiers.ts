/**
 * Where a process's CPU goes by V8 TIER, from a `perf` recording: samples of the JS thread by what
 * ran (TurboFan-optimized JS, Sparkplug baseline JS, the IC and call builtins that baseline code
 * calls for every property load and call, V8's C++ runtime, the kernel, GC), and each sample's
 * innermost JS function by tier and package. A profile from `--cpu-prof` cannot tell these apart:
 * it charges a baseline function's IC misses to the function.
 *
 *   perf record -F 999 -g -p <pid of a node started with --perf-basic-prof-only-functions> -o FILE -- sleep 9
 *   perf script -i FILE -F tid,ip,sym,dso > FILE.txt
 *   npx tsx bench/perf-tiers.ts FILE.txt [--top=30]
 *
 * The JS thread is the thread with the most samples. `--perf-basic-prof-only-functions` names JS
 * frames `JS:*name` (optimized), `JS:^name` (baseline) or `JS:~name` (interpreted).
 */
import * as fs from "node:fs"

const [file] = process.argv.slice(2).filter((a) => !a.startsWith("--"))
if (file === undefined) throw new Error("usage: npx tsx bench/perf-tiers.ts PERF_SCRIPT.txt [--top=30]")
const top = Number(process.argv.find((a) => a.startsWith("--top="))?.slice(6) ?? "30")

interface Sample { readonly tid: string; readonly frames: ReadonlyArray<string> }

const samples: Array<Sample> = fs.readFileSync(file, "utf8").split("\n\n").flatMap((block) => {
  const lines = block.split("\n").map((line) => line.trim()).filter((line) => line !== "")
  if (lines.length < 2) return []
  // A frame line is "<ip> <symbol> (<dso>)": the symbol and dso are what we read.
  return [{ tid: lines[0]!.split(/\s+/)[0]!, frames: lines.slice(1).map((line) => line.replace(/^\S+\s+/, "")) }]
})

const count = <K>(map: Map<K, number>, key: K) => map.set(key, (map.get(key) ?? 0) + 1)
const byThread = new Map<string, number>()
for (const sample of samples) count(byThread, sample.tid)
const [jsThread] = [...byThread].sort((a, b) => b[1] - a[1])[0] ?? [""]
const js = samples.filter((sample) => sample.tid === jsThread)

const TIERS: Record<string, string> = { "*": "optimized", "^": "baseline", "~": "interpreted" }
const jsFrame = (frame: string) => {
  const match = /JS:([*^~])(\S*) (\S+)/.exec(frame)
  return match === null ? undefined : { tier: TIERS[match[1]!]!, name: match[2]!, url: match[3]! }
}
const packageOf = (url: string) => {
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (module !== null) return module[1]!
  if (url.includes("/dist/")) return `ours: ${url.slice(url.indexOf("/dist/") + 6).replace(/\.js:.*$/, "")}`
  return url.replace(/:\d+:\d+$/, "")
}
const leafKind = (leaf: string, caller: string | undefined) => {
  if (leaf.includes("JS:")) return `JS ${jsFrame(leaf)?.tier}`
  if (/Builtins_\w+Handler/.test(leaf)) return "interpreter bytecode handlers"
  if (leaf.includes("Builtins_")) {
    const kind = /Builtins_\w*IC/.test(leaf) ? "IC builtins (property loads/stores)" : "other builtins (calls, literals, maps)"
    return `${kind}, from ${caller ?? "no"} JS`
  }
  if (leaf.includes("kallsyms")) return "kernel"
  if (/Scaveng|Mark|Sweep|v8::internal::Heap/.test(leaf)) return "GC on the JS thread"
  if (leaf.includes("v8::") || leaf.includes("Runtime_")) return "V8 C++ runtime"
  if (leaf.includes("node::") || leaf.includes("uv_")) return "node / libuv C++"
  return leaf.includes("libc") ? "libc" : "other"
}

const kinds = new Map<string, number>()
const tierByPackage = new Map<string, number>()
const baselineFunctions = new Map<string, number>()
for (const { frames } of js) {
  const inner = frames.map(jsFrame).find((frame) => frame !== undefined)
  count(kinds, leafKind(frames[0]!, inner?.tier))
  if (inner === undefined) continue
  count(tierByPackage, `${inner.tier.padEnd(9)} ${packageOf(inner.url)}`)
  if (inner.tier !== "optimized") count(baselineFunctions, `${inner.name || "(anonymous)"} ${packageOf(inner.url)}`)
}
const print = (title: string, map: Map<string, number>, n: number) => {
  console.log(`\n${title}`)
  for (const [key, value] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(`${(100 * value / js.length).toFixed(1).padStart(5)} %  ${String(value).padStart(5)}  ${key}`)
  }
}
console.log(`${samples.length} samples, JS thread ${jsThread}: ${js.length} (${(100 * js.length / samples.length).toFixed(0)} %); other threads: ` +
  [...byThread].filter(([tid]) => tid !== jsThread).map(([, n]) => n).join(", "))
print("JS thread by what ran (the leaf)", kinds, 20)
print("JS thread by the innermost JS function's tier and package", tierByPackage, top)
print("not optimized: innermost JS functions", baselineFunctions, top)
