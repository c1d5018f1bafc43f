/**
 * `npm run bench:outbox`: webhook delivery by two real server processes (two workers) on one
 * database, to a local receiver. Reports
 *   - latency: events committed at a steady rate; p50/p99 from commit to the receiver's 2xx;
 *   - throughput: a burst committed at once; events/s until the last one is delivered;
 *   - duplicates (each event is delivered at least once; this counts the extra deliveries).
 *
 *   DATABASE_URL=postgres://... npm run bench:outbox     (else an embedded PostgreSQL is used)
 *   BENCH_RATE=200 BENCH_SECONDS=5 BENCH_BURST=5000 BENCH_WORKERS=2
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import pg from "pg"
import { benchDatabase } from "./postgres.js"
import { freePort } from "./proc.js"

const RATE = Number(process.env.BENCH_RATE ?? 200)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const BURST = Number(process.env.BENCH_BURST ?? 5000)
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2)
const ADMIN_KEY = "bench-admin-key-0123456789abcdefghij"
const TENANT = "bench-hooks"


const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The tenant's endpoint: when each message id was first delivered, and how many extra times. */
const startReceiver = async () => {
  const deliveredAt = new Map<string, number>()
  let duplicates = 0
  const server = http.createServer((req, res) => {
    req.resume()
    req.on("end", () => {
      const id = String(req.headers["webhook-id"])
      if (deliveredAt.has(id)) duplicates++
      else deliveredAt.set(id, performance.now())
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return { port: (server.address() as AddressInfo).port, deliveredAt, duplicates: () => duplicates, close: () => server.close() }
}

const startServer = async (databaseUrl: string): Promise<{ port: number; child: ChildProcess }> => {
  const port = await freePort()
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: databaseUrl,
      ADMIN_API_KEY: ADMIN_KEY,
      ALLOW_PRIVATE_OUTBOUND_URLS: "true",
      SHUTDOWN_GRACE_SECONDS: "0"
    },
    stdio: "ignore"
  })
  for (let ready = false; !ready;) {
    await sleep(250)
    ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.status === 200, () => false)
  }
  return { port, child }
}

/** Commits `count` events in one transaction (as a domain would), with NOTIFY; returns id -> commit time. */
const commit = async (client: pg.Client, count: number, committed: Map<string, number>) => {
  const ids = Array.from({ length: count }, () => `msg_${randomUUID().replaceAll("-", "")}`)
  await client.query("begin")
  await client.query(
    `insert into webhook_outbox (id, tenant_id, event, payload)
     select gen_random_uuid(), $1, 'voice.call.started',
            jsonb_build_object('id', id, 'event', 'voice.call.started', 'timestamp', now(), 'tenant_id', $1::text,
                               'data', jsonb_build_object('call_sid', id))
     from unnest($2::text[]) as id`,
    [TENANT, ids]
  )
  await client.query("select pg_notify('outbox', 'webhook')")
  await client.query("commit")
  const at = performance.now()
  for (const id of ids) committed.set(id, at)
}

const waitDelivered = async (ids: Iterable<string>, deliveredAt: Map<string, number>, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  for (const id of ids) {
    while (!deliveredAt.has(id)) {
      if (Date.now() > deadline) throw new Error("events were not delivered in time")
      await sleep(20)
    }
  }
}

const main = async () => {
  const db = await benchDatabase(`ssv_bench_outbox_${process.pid}`)
  const databaseUrl = db.url
  const receiver = await startReceiver()
  const servers = [await startServer(databaseUrl)]
  for (let i = 1; i < WORKERS; i++) servers.push(await startServer(databaseUrl))
  await fetch(`http://127.0.0.1:${servers[0]!.port}/api/v1/admin/tenants/${TENANT}`, {
    method: "PUT",
    headers: { "x-admin-key": ADMIN_KEY, "content-type": "application/json" },
    body: JSON.stringify({
      tenant_id: TENANT,
      webhook_url: `http://127.0.0.1:${receiver.port}/hooks`,
      webhook_secret: `whsec_${Buffer.from("bench-webhook-signing-key-0123456789").toString("base64")}`
    })
  })
  await sleep(500) // every replica hears the tenant change
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()

  // Latency: RATE events/s in 20 commits a second.
  const steady = new Map<string, number>()
  const perCommit = Math.max(1, Math.round(RATE / 20))
  const start = performance.now()
  for (let tick = 0; tick < SECONDS * 20; tick++) {
    await commit(client, perCommit, steady)
    const next = start + (tick + 1) * 50
    await sleep(Math.max(0, next - performance.now()))
  }
  await waitDelivered(steady.keys(), receiver.deliveredAt, 120_000)
  const latencies = [...steady].map(([id, at]) => receiver.deliveredAt.get(id)! - at).sort((a, b) => a - b)

  // Throughput: BURST events committed at once (in commits of 500), drained by every worker.
  const burst = new Map<string, number>()
  const burstStart = performance.now()
  for (let done = 0; done < BURST; done += 500) await commit(client, Math.min(500, BURST - done), burst)
  await waitDelivered(burst.keys(), receiver.deliveredAt, 600_000)
  const lastDelivery = Math.max(...[...burst.keys()].map((id) => receiver.deliveredAt.get(id)!))
  const throughput = BURST / ((lastDelivery - burstStart) / 1000)

  console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`)
  console.log(`workers: ${WORKERS} server processes on one database; receiver on 127.0.0.1 answering 204`)
  console.log("| case | events | result |\n|---|---|---|")
  console.log(`| steady ${RATE}/s for ${SECONDS}s: commit -> delivery p50 / p99 / max | ${steady.size} | ${percentile(latencies, 0.5).toFixed(1)} / ${percentile(latencies, 0.99).toFixed(1)} / ${latencies.at(-1)!.toFixed(1)} ms |`)
  console.log(`| burst: delivery throughput | ${BURST} | ${Math.round(throughput)} events/s |`)
  console.log(`| duplicate deliveries | ${steady.size + BURST} | ${receiver.duplicates()} |`)

  await client.end()
  for (const { child } of servers) {
    child.kill("SIGTERM")
    await new Promise((resolve) => child.once("exit", resolve))
  }
  receiver.close()
  await db.stop()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
