/**
 * Two windows of `--cpu-prof` profiles side by side, per call: self time (the sampled time each sample stands
 * for, not the sample count: under load the sampler is late and samples stand for more) by function and by
 * owner, divided by the calls set up in each window, sorted by the difference. For "what costs more in a
 * first burst than in a second": `npm run bench:setup -- --rates=200 --targets=service --profile=DIR`
 * once with the default warm-up and once with `--warmup=800 --warmup-rate=200`, each window the burst's
 * first seconds (bench/setup.ts prints the burst's start as CLOCK_MONOTONIC µs with `--profile`).
 *
 *   npx tsx bench/profile-diff.ts A.cpuprofile:FROM_US:TO_US:CALLS B.cpuprofile:FROM_US:TO_US:CALLS [--top=30]
 *
 * Owner is the innermost frame of our src/ (or dist/) on the stack, else the package, else node's own.
 */
import { profileTree, readProfile } from "./cpu-profile.js"

interface Window {
  readonly label: string
  readonly calls: number
  readonly busyMs: number
  readonly idleMs: number
  readonly gcMs: number
  readonly selves: Map<string, number>
  readonly owners: Map<string, number>
}

const short = (url: string) => url.replace(/^.*\/(node_modules|src|dist)\//, "").replace(/^node:internal\//, "")

const read = (spec: string): Window => {
  const [file, fromUs, toUs, calls] = spec.split(":") as [string, string, string, string]
  const profile = readProfile(file)
  const { byId, owner } = profileTree(profile)
  const selves = new Map<string, number>()
  const owners = new Map<string, number>()
  let busyMs = 0
  let idleMs = 0
  let gcMs = 0
  let t = profile.startTime
  const from = Number(fromUs)
  const to = Number(toUs)
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]!
    if (t < from || t >= to) continue
    // A sample stands for the time up to the next one.
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000
    const node = byId.get(profile.samples[i]!)!
    const name = node.callFrame.functionName
    if (name === "(idle)") {
      idleMs += ms
      continue
    }
    busyMs += ms
    if (name === "(garbage collector)") gcMs += ms
    const self = `${name || "(anonymous)"} ${short(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`
    selves.set(self, (selves.get(self) ?? 0) + ms)
    const o = owner(node.id)
    owners.set(o, (owners.get(o) ?? 0) + ms)
  }
  return { label: spec, calls: Number(calls), busyMs, idleMs, gcMs, selves, owners }
}

const top = Number(process.argv.find((a) => a.startsWith("--top="))?.slice(6) ?? "30")
const [a, b] = process.argv.slice(2).filter((x) => !x.startsWith("--")).map(read) as [Window, Window]
const per = (w: Window, ms: number) => (ms * 1000) / w.calls
const us = (n: number) => n.toFixed(0).padStart(7)
for (const w of [a, b]) {
  console.log(`${w.label}: busy ${w.busyMs.toFixed(0)} ms, idle ${w.idleMs.toFixed(0)} ms, GC ${w.gcMs.toFixed(0)} ms; ` +
    `per call ${per(w, w.busyMs).toFixed(0)} µs busy`)
}
const table = (title: string, pick: (w: Window) => Map<string, number>) => {
  const keys = new Set([...pick(a).keys(), ...pick(b).keys()])
  const rows = [...keys].map((k) => {
    const x = per(a, pick(a).get(k) ?? 0)
    const y = per(b, pick(b).get(k) ?? 0)
    return { k, x, y, d: x - y }
  })
  const sum = (f: (r: { x: number; y: number; d: number }) => number) => rows.reduce((s, r) => s + f(r), 0)
  console.log(`\n${title}: µs per call, A / B / A - B (sum ${us(sum((r) => r.x))} / ${us(sum((r) => r.y))} / ${us(sum((r) => r.d))})`)
  for (const r of rows.sort((p, q) => q.d - p.d).slice(0, top)) console.log(`  ${us(r.x)} ${us(r.y)} ${us(r.d)}  ${r.k}`)
  console.log("  ... most cheaper in A:")
  for (const r of rows.sort((p, q) => p.d - q.d).slice(0, 8)) console.log(`  ${us(r.x)} ${us(r.y)} ${us(r.d)}  ${r.k}`)
}
table("by owner", (w) => w.owners)
table("by function (self)", (w) => w.selves)
