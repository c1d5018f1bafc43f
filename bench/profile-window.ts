/**
 * A `--cpu-prof` profile's samples in a window of time, by owner: the innermost frame of our
 * src/ on the stack (else the package, else node's own or "(no frame of ours)"), and the top
 * functions by self samples. For reading one phase of a run, e.g. the hang-ups of a burst
 * (`npm run bench:setup -- --rates=50 --targets=service --profile=DIR`: the last seconds).
 *
 *   npx tsx bench/profile-window.ts FILE.cpuprofile [--from=S] [--to=S] [--last=S] [--from-us=T --to-us=T]
 *
 * Times are seconds from the profile's start (`--last=S`: the last S seconds), or CLOCK_MONOTONIC
 * microseconds (`--from-us`/`--to-us`, as bench/setup.ts prints them with `--profile`).
 */
import { profileTree, readProfile } from "./cpu-profile.js"

const file = process.argv[2]!
const opt = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1]
const profile = readProfile(file)
const span = (profile.endTime - profile.startTime) / 1e6
const last = opt("last")
// --from-us/--to-us: CLOCK_MONOTONIC µs (as the profile's own timestamps; bench/setup.ts prints the hang-ups').
const us = (name: string) => opt(name) === undefined ? undefined : (Number(opt(name)) - profile.startTime) / 1e6
const from = us("from-us") ?? (last === undefined ? Number(opt("from") ?? 0) : span - Number(last))
const to = us("to-us") ?? Number(opt("to") ?? span)

const { byId, owner, parent } = profileTree(profile)

// --stacks=NAME: the commonest stacks (function names, innermost first) of samples whose function is NAME.
const stacksOf = opt("stacks")
const stacks = new Map<string, number>()
const owners = new Map<string, number>()
const selves = new Map<string, number>()
let t = profile.startTime
let total = 0
let idle = 0
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i]!
  const s = (t - profile.startTime) / 1e6
  if (s < from || s >= to) continue
  const node = byId.get(profile.samples[i]!)!
  const name = node.callFrame.functionName
  if (name === "(idle)" || name === "(program)") {
    if (name === "(idle)") idle++
    continue
  }
  total++
  if (stacksOf !== undefined && name === stacksOf) {
    const names: Array<string> = []
    for (let at: number | undefined = node.id; at !== undefined && names.length < 14; at = parent.get(at)) {
      const f = byId.get(at)!.callFrame
      names.push(`${f.functionName || "(anon)"}@${f.url.replace(/^.*\/(node_modules|src|dist)\//, "").replace(/^node:internal\//, "")}:${f.lineNumber + 1}`)
    }
    const key = names.join(" < ")
    stacks.set(key, (stacks.get(key) ?? 0) + 1)
  }
  const o = owner(node.id)
  owners.set(o, (owners.get(o) ?? 0) + 1)
  const self = `${name || "(anonymous)"} ${node.callFrame.url.replace(/^.*\/(node_modules|src)\//, "")}:${node.callFrame.lineNumber + 1}`
  selves.set(self, (selves.get(self) ?? 0) + 1)
}
const pct = (n: number) => `${((n * 100) / total).toFixed(1).padStart(5)} %`
console.log(`${file}: ${from.toFixed(1)}-${to.toFixed(1)} s of ${span.toFixed(1)} s: ${total} busy samples, ${idle} idle`)
console.log("by owner (innermost src frame, else package):")
for (const [k, v] of [...owners].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`  ${pct(v)} ${String(v).padStart(6)}  ${k}`)
console.log("top functions by self samples:")
for (const [k, v] of [...selves].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${pct(v)} ${String(v).padStart(6)}  ${k}`)
if (stacksOf !== undefined) {
  console.log(`stacks of ${stacksOf}:`)
  for (const [k, v] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`  ${String(v).padStart(5)}  ${k}`)
}
