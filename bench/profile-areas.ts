/**
 * A `--cpu-prof` profile's busy samples in a window, by area: what the innermost frame is
 * (Effect's runtime, pg, node's HTTP and sockets, crypto, the collector, our own code) and,
 * for Effect's runtime and pg, which of our modules is the innermost one above it. For reading
 * where one request's CPU goes (bench/webhook-ab.ts WH_PROFILE=DIR; bench/RESULTS.md, "Stop 35,
 * helper hookplain").
 *
 *   npx tsx bench/profile-areas.ts FILE.cpuprofile --from=S --to=S
 */
import * as fs from "node:fs"

interface Node {
  readonly id: number
  readonly callFrame: { readonly url: string; readonly functionName: string }
  readonly children?: ReadonlyArray<number>
}
interface Profile {
  readonly nodes: ReadonlyArray<Node>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const file = process.argv[2]!
const opt = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1]
const from = Number(opt("from") ?? 0) * 1e6
const to = Number(opt("to") ?? Infinity) * 1e6
const requests = opt("requests") === undefined ? undefined : Number(opt("requests"))
const profile = JSON.parse(fs.readFileSync(file, "utf8")) as Profile
const parent = new Map<number, Node>()
const byId = new Map<number, Node>()
for (const node of profile.nodes) {
  byId.set(node.id, node)
  for (const child of node.children ?? []) parent.set(child, node)
}

/** Our module of a frame (tsx's src/ or the build's dist/), else undefined. */
const ours = (url: string) => url.includes("node_modules") ? undefined : /\/(?:src|dist)\/(.+)\.[jt]s$/.exec(url)?.[1]
const packageOf = (url: string) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1]

const areaOf = (leaf: Node): string => {
  const { functionName, url } = leaf.callFrame
  if (functionName === "(garbage collector)") return "garbage collector"
  if (functionName === "(program)") return "(program: V8/native, no JS frame)"
  const pkg = packageOf(url)
  if (pkg === "effect" || pkg?.startsWith("@effect/")) return `Effect (${pkg})`
  if (pkg === "pg" || pkg === "pg-protocol" || pkg === "pg-pool") return "pg client"
  if (pkg !== undefined) return `package ${pkg}`
  const mine = ours(url)
  if (mine !== undefined) return `our code: ${mine}`
  if (/Hmac|Hash|digest|update|createHmac|timingSafeEqual|randomUUID|getRandomValues/.test(functionName) || url.includes("crypto")) {
    return "node crypto (HMAC, ids)"
  }
  if (url.includes("_http_") || url.includes("node:net") || url.includes("stream") || functionName === "writev" ||
    functionName === "writeUtf8String" || functionName === "writeBuffer" || functionName === "parse" ||
    functionName === "execute" || functionName === "close" || functionName === "onStreamRead") {
    return "node HTTP/socket I/O"
  }
  return `node other (${url === "" ? functionName : url.replace(/:\d+$/, "")})`
}

const innermostOurs = (leaf: Node): string => {
  for (let node: Node | undefined = leaf; node !== undefined; node = parent.get(node.id)) {
    const mine = ours(node.callFrame.url)
    if (mine !== undefined) return mine
  }
  return "(none of ours)"
}

const areas = new Map<string, number>()
const under = new Map<string, Map<string, number>>()
let t = 0
let busy = 0
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i]!
  if (t < from || t > to) continue
  const leaf = byId.get(profile.samples[i]!)!
  if (leaf.callFrame.functionName === "(idle)") continue
  busy++
  const area = areaOf(leaf)
  areas.set(area, (areas.get(area) ?? 0) + 1)
  if (area.startsWith("Effect") || area === "pg client" || area.startsWith("node")) {
    const m = under.get(area) ?? new Map<string, number>()
    const mine = area.startsWith("node") ? `${leaf.callFrame.functionName} (in ${innermostOurs(leaf)})` : innermostOurs(leaf)
    m.set(mine, (m.get(mine) ?? 0) + 1)
    under.set(area, m)
  }
}
const pct = (n: number) => `${((100 * n) / busy).toFixed(1).padStart(5)} %`
console.log(`${file}: ${(from / 1e6).toFixed(2)}-${(to / 1e6).toFixed(2)} s, ${busy} busy samples`)
for (const [area, n] of [...areas].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
  console.log(`${pct(n)} ${String(n).padStart(6)}  ${area}`)
  for (const [mine, m] of [...(under.get(area) ?? [])].sort((a, b) => b[1] - a[1]).slice(0, 8)) {
    console.log(`        ${pct(m)} ${String(m).padStart(6)}  under ${mine}`)
  }
}

const groupOf = (area: string) =>
  area.startsWith("Effect") ? "Effect (effect, @effect/*)" :
  area.startsWith("our code") ? "our code (plain)" :
  area.startsWith("node other") || area.startsWith("(program") || area.startsWith("package") ? "node other, V8" :
  area
const groups = new Map<string, number>()
for (const [area, n] of areas) groups.set(groupOf(area), (groups.get(groupOf(area)) ?? 0) + n)
// The mean sampling interval over the whole profile, to turn samples into time.
const interval = profile.timeDeltas.reduce((sum, d) => sum + d, 0) / profile.timeDeltas.length / 1000
console.log(`grouped (sampling every ${interval.toFixed(3)} ms${requests === undefined ? "" : `, ms per request over ${requests}`}):`)
for (const [group, n] of [...groups].sort((a, b) => b[1] - a[1])) {
  const per = requests === undefined ? "" : `  ${((n * interval) / requests).toFixed(3)} ms`
  console.log(`${pct(n)} ${String(n).padStart(6)}${per}  ${group}`)
}
