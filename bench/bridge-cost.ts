/**
 * `npx tsx bench/bridge-cost.ts --base=DIR`: CPU per frame of the call's hot path (the
 * `Bridge` callbacks: caller audio up, model audio down with playback marks) in this tree
 * and in another checkout of the service at DIR (e.g. `git worktree add /tmp/base <commit>`),
 * in one process, on the same frames, alternating rounds. The sockets are stubs that only
 * count what they are given, so the figure is the bridge's own work (what telemetry adds
 * to it), not socket I/O; on a busy machine CPU time varies far less than wall-clock
 * latency. Prints ns per frame, median of the rounds.
 */
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback
const base = arg("base", "")
const frames = Number(arg("frames", "2000000"))
const rounds = Number(arg("rounds", "7"))
const HERE = path.join(fileURLToPath(new URL("..", import.meta.url)))

interface Tree {
  readonly label: string
  readonly Bridge: new (...args: Array<any>) => any
  readonly telemetry: () => unknown
}

const load = async (label: string, root: string): Promise<Tree> => {
  const bridge = await import(pathToFileURL(path.join(root, "src/Media/Bridge.ts")).href)
  let telemetry: () => unknown = () => undefined
  try {
    const module = await import(pathToFileURL(path.join(root, "src/Observability/CallTelemetry.ts")).href)
    const clock = { unsafeCurrentTimeMillis: () => Date.now(), unsafeCurrentTimeNanos: () => process.hrtime.bigint() }
    telemetry = () => new module.CallTelemetry("bench", "inbound", Date.now(), undefined, clock)
  } catch {
    // A tree from before telemetry: its hooks have no `telemetry`.
  }
  return { label, Bridge: bridge.Bridge, telemetry }
}

const noop = () => {}
const stubReads = { writesTo: noop }
let sink = 0
const twilio = {
  reads: stubReads,
  writer: {},
  sendMedia: (_b: Buffer, start: number, end: number) => (sink += end - start),
  sendMark: noop,
  sendClear: noop,
  close: noop
}
const upstream = { reads: stubReads, writer: {}, send: noop, sendAudio: (_b: Buffer, s: number, e: number) => (sink += e - s), attach: noop, close: noop }
const plan = { sessionUpdate: "{\"type\":\"session.update\"}", greeting: "{\"type\":\"response.create\"}" }
const audio = Buffer.from(Buffer.alloc(160, 0x7f).toString("base64"))

/** One call: `frames` caller frames up and as many model deltas down (a new item every 50). */
const run = (tree: Tree): number => {
  const hooks = { now: Date.now, runTool: noop, reconnect: noop, hangupSoon: noop, ended: noop, warn: noop, telemetry: tree.telemetry() }
  const bridge = new tree.Bridge(twilio, plan, hooks, [])
  bridge.upstreamReady(upstream)
  const items = Array.from({ length: 64 }, (_, i) => `item_${i}`)
  const started = process.cpuUsage()
  for (let i = 0; i < frames; i++) {
    bridge.media(audio, 0, audio.length)
    bridge.audio({ responseId: "resp_1", itemId: items[(i / 50 | 0) & 63]!, bytes: audio, start: 0, end: audio.length })
    if ((i & 7) === 7) bridge.mark(String(i >> 3))
  }
  const used = process.cpuUsage(started)
  return ((used.user + used.system) * 1000) / (frames * 2)
}

const median = (values: Array<number>) => [...values].sort((a, b) => a - b)[values.length >> 1]!

const main = async () => {
  if (base === "") throw new Error("--base=DIR: a checkout of the service to compare with")
  const trees = [await load("this tree", HERE), await load(`base (${base})`, base)]
  for (const tree of trees) run(tree) // warm-up: both paths optimised before measuring
  const results = new Map<string, Array<number>>(trees.map((t) => [t.label, []]))
  for (let round = 0; round < rounds; round++) {
    for (const tree of round % 2 === 0 ? trees : [...trees].reverse()) results.get(tree.label)!.push(run(tree))
  }
  console.log(`${frames} frames each way per round, ${rounds} rounds, loadavg ${(await import("node:os")).loadavg().map((l) => l.toFixed(2)).join(" ")}`)
  for (const [label, values] of results) {
    console.log(`${label}: ${median(values).toFixed(1)} ns/frame (rounds: ${values.map((v) => v.toFixed(1)).join(", ")})`)
  }
  if (sink < 0) console.log(sink)
}

void main()
