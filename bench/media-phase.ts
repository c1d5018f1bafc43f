/**
 * The media phase of call set-up alone: upgrade -> `start` accepted -> first greeting audio, its
 * latencies and the service's and PostgreSQL's CPU per call over that phase only. Per tree and
 * round (trees alternating): the tree's built service on a fresh database (bench/setup-fixture.ts),
 * 50 warm-up calls at 25/s (closed, records written), then `--calls` webhooks answered first (not
 * in the window), then their media sockets opened at `--rate`/s, each sending `connected`, `start`
 * and one caller frame (bench/twilio-call.ts) and waiting for the greeting. The CPU window runs from
 * the first upgrade to the last greeting; the hang-ups come after it. MAX_CALL_SETUPS_IN_FLIGHT is
 * lifted (the webhooks' set-ups wait for their streams), so nothing is shed.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/media-phase.ts [--rate=50] [--calls=200] [--rounds=2] [--model-connect-ms=0] treeA treeB
 *
 * `--node-flags="--cpu-prof --cpu-prof-dir=DIR"`: the service's node flags; the window is printed
 * as monotonic microseconds (`window_us=from,to`, the clock of a `.cpuprofile`'s timestamps), for
 * `npx tsx bench/profile-window.ts FILE --from-us=FROM --to-us=TO`.
 */
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { WebSocket } from "ws"
import { backendCpu, backendCpuSince, cpuSeconds, freePort } from "./proc.js"
import { arg, BURST_ENV, freshDatabase, greetedBursts, sleep, startSetUpService, stopService } from "./setup-fixture.js"
import { startFakeModel } from "./setup-model.js"
import { f, pct } from "./setup-call.js"
import { ringWebhook, sendStart } from "./twilio-call.js"

const rate = Number(arg("rate", "50"))
const calls = Number(arg("calls", "200"))
const rounds = Number(arg("rounds", "2"))
/** Each upstream connect held this long by the fake model (a TLS handshake to api.openai.com); 0: loopback's. */
const modelConnectMs = Number(arg("model-connect-ms", "0"))
const nodeFlags = arg("node-flags", "").split(" ").filter((flag) => flag !== "")
const trees = process.argv.slice(2).filter((a) => !a.startsWith("--"))

interface Phase {
  upgrade?: number
  accepted?: number
  greeting?: number
  failed?: string
}

/** The media socket of an answered webhook, timed from the upgrade sent. */
const stream = (ringing: Awaited<ReturnType<typeof ringWebhook>>, n: number, t: Phase, accepted: Map<number, () => void>) => {
  const t0 = performance.now()
  accepted.set(n, () => (t.accepted = performance.now() - t0))
  const ws = new WebSocket(ringing.stream)
  return new Promise<WebSocket>((resolve, reject) => {
    ws.once("open", () => {
      t.upgrade = performance.now() - t0
      sendStart(ws, n, ringing.callSid, ringing.custom)
    })
    ws.on("message", (data) => {
      if (t.greeting === undefined && JSON.parse(data.toString()).event === "media") {
        t.greeting = performance.now() - t0
        resolve(ws)
      }
    })
    ws.once("error", reject)
    ws.once("close", () => reject(new Error("closed before the greeting")))
    setTimeout(() => reject(new Error("no greeting in 30 s")), 30_000).unref()
  })
}

const run = async (tree: string, baseUrl: URL) => {
  const database = `ssv_media_phase_${Date.now()}`
  const { url, drop } = await freshDatabase(baseUrl, database)
  const accepted = new Map<number, () => void>()
  const port = await freePort()
  const model = await startFakeModel(port, "response.create", (n) => accepted.get(n)?.(), modelConnectMs)
  const { base, child } = await startSetUpService({
    tree,
    url: url.toString(),
    args: [...nodeFlags, "dist/main.js"],
    env: {
      ...BURST_ENV,
      MAX_CALL_SETUPS_IN_FLIGHT: "100000",
      OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
      UPSTREAM_URL: `ws://127.0.0.1:${port}/v1/realtime?model=gpt-realtime`
    }
  })
  try {
    const warm = await greetedBursts(base)(50, 25)
    for (const c of warm) if ("ws" in c) c.ws.close()
    await sleep(3000)
    let n = Math.floor(Math.random() * 1e6) * 1000
    const first = n
    const ringings: Array<Awaited<ReturnType<typeof ringWebhook>>> = []
    for (let i = 0; i < calls; i += 20) {
      ringings.push(...await Promise.all(Array.from({ length: Math.min(20, calls - i) }, () => ringWebhook(base, n++))))
    }
    await sleep(1000)
    const load = os.loadavg()[0]!.toFixed(1)
    const cpu0 = cpuSeconds(child.pid!)
    const pg0 = await backendCpu(url.toString())
    const start = performance.now()
    const from = process.hrtime.bigint() / 1000n
    const timings: Array<Phase> = ringings.map(() => ({}))
    const sockets = await Promise.all(ringings.map(async (ringing, i) => {
      await sleep(start + (i * 1000) / rate - performance.now())
      return stream(ringing, first + i, timings[i]!, accepted).catch((error) => {
        timings[i]!.failed = String(error)
        return undefined
      })
    }))
    const cpu = cpuSeconds(child.pid!) - cpu0
    if (nodeFlags.length > 0) console.error(`window_us=${from},${process.hrtime.bigint() / 1000n}`)
    const pgCpu = backendCpuSince(pg0, await backendCpu(url.toString()))
    for (const ws of sockets) ws?.close()
    await sleep(2000)
    const ok = timings.filter((t) => t.failed === undefined)
    const of = (pick: (t: Phase) => number | undefined) => ok.map(pick).filter((v): v is number => v !== undefined)
    const cell = (values: Array<number>) => `${f(pct(values, 50))} / ${f(pct(values, 99))}`
    return `| ${path.basename(tree)} | ${load} | ${rate} | ${ok.length}/${calls} | ${cell(of((t) => t.upgrade))} | ${cell(of((t) => t.accepted))} | ` +
      `${cell(of((t) => t.greeting))} | ${((cpu * 1000) / calls).toFixed(2)} | ${((pgCpu * 1000) / calls).toFixed(2)} |`
  } finally {
    await stopService(child)
    await model.close()
    await drop()
  }
}

const main = async () => {
  const baseUrl = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres")
  console.log(`${os.cpus().length} x ${os.cpus()[0]?.model}, node ${process.version}, ${calls} calls at ${rate}/s`)
  console.log("| tree | load (1 min) | arrivals/s | greeted | upgrade -> 101 p50 / p99 ms | upgrade -> start accepted p50 / p99 ms | upgrade -> first greeting audio p50 / p99 ms | service CPU ms/call (upgrade -> last greeting) | PostgreSQL CPU ms/call |")
  console.log("|---|---|---|---|---|---|---|---|---|")
  for (let r = 0; r < rounds; r++) {
    for (const tree of trees) console.log(await run(path.resolve(tree), baseUrl))
  }
}

main().then(() => process.exit(0), (error) => {
  console.error(error)
  process.exit(1)
})
