/**
 * What one end-of-call record costs to build and run (CallRecords.recordCompletedCall), for a
 * tree: Effect operations (exact, a counting supervisor), bytes allocated per record (heap
 * growth over a loop with no collection in it: run with a young generation large enough,
 * e.g. `--max-semi-space-size=256`, and the script says whether a GC ran), and the statement's
 * text length and parameter count (read where `pg` sends it).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
 *     node --max-semi-space-size=256 --expose-gc --import tsx bench/record-cost.ts [tree] [records]
 *
 * `tree` is a checkout (default `.`): its src/ is loaded, so two trees compare in the same way.
 * PRINT_STATEMENT=1 prints the record's text; BY_LINE=1 groups our frames' bytes by function and line;
 * EXPLAIN=1 prints `explain (analyze, buffers)` of one more record (rolled back): its triggers' times.
 * pgCpuUsPerRecord is the PostgreSQL backends' CPU (from /proc) over the timed loop.
 * PG_PARTS=N: the record's statement N times per variant (prepared, fresh ids, rolled back) on one
 * connection, its backend's CPU per run: as written, then without each trigger or expression index
 * of the written tables in turn, then after the SQL file PG_PARTS_SQL (if set) is applied.
 * PG_PARTS_AB=a.sql,b.sql [ROUNDS=6]: instead, the two files applied in turn, alternating, and the medians.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Session } from "node:inspector/promises"
import { PerformanceObserver } from "node:perf_hooks"
import pg from "pg"
import { backendCpu, backendCpuSince, cpuSeconds } from "./proc.js"
import { withRecordRuntime } from "./record-runtime.js"

const tree = path.resolve(process.argv[2] ?? ".")
const records = Number(process.argv[3] ?? 300)
const name = `ssv_record_cost_${process.pid}`

const sent: Array<{ text: string; params: number; values: ReadonlyArray<unknown> }> = []
const query = pg.Client.prototype.query as (...args: Array<unknown>) => unknown
pg.Client.prototype.query = function(this: pg.Client, ...args: Array<unknown>) {
  const [first, second] = args
  // Prepared statements arrive as a config object ({ name, text, values }).
  const config = typeof first === "object" && first !== null ? first as { text?: unknown; values?: unknown } : undefined
  const text = config?.text ?? first
  const values = config?.values ?? second
  if (typeof text === "string" && Array.isArray(values)) sent.push({ text, params: values.length, values })
  return query.apply(this, args)
} as typeof pg.Client.prototype.query

interface ProfileNode {
  readonly callFrame: { readonly url: string; readonly functionName: string; readonly lineNumber: number }
  readonly selfSize: number
  readonly children: ReadonlyArray<ProfileNode>
}

/** An operation as bench/ops-trace-main.ts writes it: its kind and the start of the function it carries. */
const describe = (effect: Record<string, unknown>): string => {
  const parts: Array<string> = [String(effect._op ?? "?")]
  for (const key of ["effect_instruction_i0", "effect_instruction_i1"]) {
    const value = effect[key]
    if (typeof value === "function") parts.push(`${value.name || ""}:${String(value).replace(/\s+/g, " ").slice(0, 90)}`)
  }
  return parts.join(" ")
}

const main = async () => {
  const { Effect, RuntimeFlags, RuntimeFlagsPatch, Supervisor } = await import("effect")
  await withRecordRuntime(tree, name, { org_id: "org-acme" }, async ({ CallRecords, databaseUrl, runtime }) => {
    const t0 = Date.now()
    let n = 0
    // A caller who talked with the agent, asked for a callback at a time, and hung up.
    const call = () => {
      n++
      const sid = n.toString(16).padStart(32, "0")
      return {
        tenantId: "acme", streamSid: `MZ${sid}`, callSid: `CA${sid}`, direction: "inbound" as const,
        from: "+15551110001", to: "+15550008000", agentVersionId: null, model: "gpt-realtime", voice: "verse",
        startedAt: new Date(t0 - 60_000), endedAt: new Date(t0), endReason: "caller_hangup" as const, errorMessage: null,
        transcript: [
          { role: "assistant" as const, content: "Hello, how can I help?", timestamp: new Date(t0 - 59_000) },
          { role: "user" as const, content: "Please call me back tomorrow.", timestamp: new Date(t0 - 50_000) }
        ],
        functionCalls: [{
          name: "request_callback", arguments: { callback_at: "2026-12-04T10:00:00Z" }, result: { ok: true },
          durationMs: 3, timestamp: new Date(t0 - 40_000)
        }],
        turnLatencies: [{ llmFirstTokenMs: 300, firstAudioMs: 500 }],
        escalated: false, escalationReason: null
      }
    }
    const record = Effect.flatMap(CallRecords, (r: any) => r.recordCompletedCall(call()))
    let ops = 0
    let trace: Array<string> | undefined = process.env.TRACE ? [] : undefined
    class Counting extends Supervisor.AbstractSupervisor<void> {
      get value() {
        return Effect.void
      }
      override onEffect(_fiber: unknown, effect: unknown) {
        ops++
        if (trace !== undefined) trace.push(describe(effect as Record<string, unknown>))
      }
    }
    const counted = record.pipe(
      Effect.supervised(new Counting()),
      Effect.withRuntimeFlagsPatch(RuntimeFlagsPatch.enable(RuntimeFlags.OpSupervision))
    )
    // Warm up (JIT, the tenant cache, the pool), then one counted record.
    for (let i = 0; i < 200; i++) await runtime.runPromise(record)
    const written = await runtime.runPromise(counted)
    const opsRecord = ops
    if (trace !== undefined) console.log(trace.join("\n"))
    trace = undefined
    ops = 0
    await runtime.runPromise(Effect.void.pipe(
      Effect.supervised(new Counting()),
      Effect.withRuntimeFlagsPatch(RuntimeFlagsPatch.enable(RuntimeFlags.OpSupervision))
    ))
    const last = sent.filter((s) => s.text.startsWith("with "))[sent.filter((s) => s.text.startsWith("with ")).length - 1]
    let gcs = 0
    const observer = new PerformanceObserver((list) => {
      gcs += list.getEntries().length
    })
    observer.observe({ entryTypes: ["gc"] })
    const gc = (globalThis as { gc?: () => void }).gc
    gc?.()
    const before = process.memoryUsage().heapUsed
    const pgBefore = await backendCpu(databaseUrl)
    const started = process.cpuUsage()
    for (let i = 0; i < records; i++) await runtime.runPromise(record)
    const cpu = process.cpuUsage(started)
    const pgCpu = backendCpuSince(pgBefore, await backendCpu(databaseUrl))
    const after = process.memoryUsage().heapUsed
    // The same loop again under V8's sampling heap profiler (collected objects included): bytes
    // allocated per record, by the innermost frame of the tree's src/ (or a package) on the stack.
    const session = new Session()
    session.connect()
    await session.post("HeapProfiler.startSampling", {
      samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true
    })
    for (let i = 0; i < records; i++) await runtime.runPromise(record)
    const { profile } = await session.post("HeapProfiler.stopSampling") as unknown as { profile: { head: ProfileNode } }
    const buckets = new Map<string, number>()
    let sampled = 0
    const walk = (node: ProfileNode, owner: string) => {
      const url = node.callFrame.url
      const mine = url.includes(`${tree}/src/`) ? url.slice(url.indexOf("/src/") + 5) : undefined
      const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1]
      const here = mine ?? (owner.startsWith("src:") ? owner : pkg ?? owner)
      // BY_LINE=1: our frames by function and line, to see which template or object a module's bytes are.
      const label = mine === undefined
        ? here
        : process.env.BY_LINE
        ? `src:${mine}:${node.callFrame.lineNumber + 1} ${node.callFrame.functionName}`
        : `src:${mine}`
      sampled += node.selfSize
      buckets.set(label, (buckets.get(label) ?? 0) + node.selfSize)
      for (const child of node.children) walk(child, label)
    }
    walk(profile.head, "(no frame of ours)")
    const byOrigin = [...buckets].sort((a, b) => b[1] - a[1]).slice(0, 25)
      .map(([label, bytes]) => `${(bytes / records / 1024).toFixed(1).padStart(7)} KB  ${label}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
    observer.disconnect()
    console.log(JSON.stringify({
      tree,
      written,
      operations: opsRecord - ops,
      statementChars: last?.text.length,
      parameters: last?.params,
      heapGrowthKbPerRecord: Number(((after - before) / records / 1024).toFixed(1)),
      sampledKbPerRecord: Number((sampled / records / 1024).toFixed(1)),
      gcsInLoop: gcs,
      cpuUsPerRecord: Math.round((cpu.user + cpu.system) / records),
      pgCpuUsPerRecord: Math.round((pgCpu * 1e6) / records)
    }))
    console.log(byOrigin.join("\n"))
    if (process.env.PRINT_STATEMENT) console.log(last?.text)
    if (process.env.EXPLAIN) {
      // The last record's statement with fresh ids and sids (consistently, in JSON texts too) so each
      // run is a new record, not a repeat: explained on one warm connection, rolled back, EXPLAIN times.
      // The figures are the mean over the runs after the first 10 (plans and plpgsql compiled).
      const mine = sent.filter((s) => s.text.startsWith("with ")).at(-1)!
      const client = new pg.Client({ connectionString: databaseUrl })
      await client.connect()
      const idLike = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(MZ|CA)[0-9a-f]{32})$/
      const runs = Number(process.env.EXPLAIN)  > 1 ? Number(process.env.EXPLAIN) : 40
      const totals = new Map<string, number>()
      let lastPlan: Array<string> = []
      for (let run = 0; run < runs; run++) {
        const fresh = new Map<string, string>()
        for (const v of mine.values) {
          if (typeof v === "string" && idLike.test(v)) {
            fresh.set(v, v.startsWith("MZ") || v.startsWith("CA") ? v.slice(0, 2) + (run + 1).toString(16).padStart(32, "e") : crypto.randomUUID())
          }
        }
        const renew = (v: unknown) => {
          if (typeof v !== "string") return v
          let out = v
          for (const [from, to] of fresh) out = out.replaceAll(from, to)
          return out
        }
        await client.query("begin")
        const { rows } = await client.query<{ "QUERY PLAN": string }>(`explain (analyze, buffers) ${mine.text}`, mine.values.map(renew))
        await client.query("rollback")
        lastPlan = rows.map((r) => r["QUERY PLAN"])
        if (run < 10) continue
        for (const line of lastPlan) {
          const m = /^(Trigger .*?|Execution Time|Planning Time):? (?:time=)?([0-9.]+)/.exec(line)
          if (m) totals.set(m[1]!, (totals.get(m[1]!) ?? 0) + Number(m[2]))
        }
      }
      await client.end()
      if (process.env.EXPLAIN_PLAN) console.log(lastPlan.join("\n"))
      for (const [what, ms] of totals) console.log(`${(ms / (runs - 10)).toFixed(3).padStart(8)} ms  ${what}`)
    }
    if (process.env.PG_PARTS) {
      const mine = sent.filter((s) => s.text.startsWith("with ")).at(-1)!
      const client = new pg.Client({ connectionString: databaseUrl })
      await client.connect()
      const { rows: [{ pid }] } = await client.query<{ pid: number }>("select pg_backend_pid() as pid")
      const idLike = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(MZ|CA)[0-9a-f]{32})$/
      const runs = Number(process.env.PG_PARTS) > 1 ? Number(process.env.PG_PARTS) : 400
      let serial = 0
      let statement = 0
      const once = async () => {
        serial++
        const fresh = new Map<string, string>()
        for (const v of mine.values) {
          if (typeof v === "string" && idLike.test(v)) {
            fresh.set(v, v.startsWith("MZ") || v.startsWith("CA") ? v.slice(0, 2) + serial.toString(16).padStart(32, "d") : crypto.randomUUID())
          }
        }
        const values = mine.values.map((v) => {
          if (typeof v !== "string") return v
          let out = v
          for (const [from, to] of fresh) out = out.replaceAll(from, to)
          return out
        })
        await client.query("begin")
        await client.query({ name: `record_${statement}`, text: mine.text, values })
        await client.query("rollback")
      }
      const measure = async (label: string) => {
        statement++
        for (let i = 0; i < 20; i++) await once()
        const cpu0 = cpuSeconds(pid)
        const t0 = performance.now()
        for (let i = 0; i < runs; i++) await once()
        const wall = (performance.now() - t0) / runs
        const cpu = ((cpuSeconds(pid) - cpu0) * 1000) / runs
        console.log(`${cpu.toFixed(3).padStart(7)} ms PG CPU  ${wall.toFixed(3).padStart(7)} ms wall  ${label}`)
        return [cpu, wall] as [number, number]
      }
      if (process.env.PG_PARTS_AB) {
        // Two SQL files applied in turn (e.g. old and new function bodies), ROUNDS rounds, then the medians.
        const files = process.env.PG_PARTS_AB.split(",")
        const seen = new Map<string, Array<[number, number]>>()
        for (let round = 0; round < Number(process.env.ROUNDS ?? 6); round++) {
          for (const file of round % 2 === 0 ? files : [...files].reverse()) {
            await client.query(fs.readFileSync(file, "utf8"))
            seen.set(file, [...(seen.get(file) ?? []), await measure(file)])
          }
        }
        const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
        for (const [file, xs] of seen) {
          console.log(`median: ${median(xs.map((x) => x[0])).toFixed(3)} ms PG CPU, ${median(xs.map((x) => x[1])).toFixed(3)} ms wall  ${file}`)
        }
      } else {
      await measure("as written")
      const { rows: triggers } = await client.query<{ tab: string; name: string }>(
        `select tgrelid::regclass::text as tab, tgname as name from pg_trigger
         where not tgisinternal and tgrelid::regclass::text in ('call_logs', 'voice_sessions', 'voice_outcomes', 'webhook_outbox',
           'callback_tasks', 'operator_queues', 'live_calls', 'voice_session_search', 'call_log_latency')
           and tgtype & 4 = 4 order by 1, 2`
      )
      for (const { tab, name } of triggers) {
        await client.query(`alter table ${tab} disable trigger ${name}`)
        await measure(`without trigger ${name} on ${tab}`)
        await client.query(`alter table ${tab} enable trigger ${name}`)
      }
      const { rows: indexes } = await client.query<{ tab: string; name: string; def: string }>(
        `select i.indrelid::regclass::text as tab, c.relname as name, pg_get_indexdef(i.indexrelid) as def
         from pg_index i join pg_class c on c.oid = i.indexrelid
         where i.indrelid::regclass::text in ('call_logs', 'voice_sessions', 'voice_outcomes', 'webhook_outbox', 'voice_session_search')
           and (i.indexprs is not null or c.relam <> (select oid from pg_am where amname = 'btree')) order by 1, 2`
      )
      for (const { tab, name, def } of indexes) {
        await client.query(`drop index ${name}`)
        await measure(`without index ${name} on ${tab}`)
        await client.query(def)
      }
      if (process.env.PG_PARTS_SQL) {
        await client.query(fs.readFileSync(process.env.PG_PARTS_SQL, "utf8"))
        await measure(`after ${process.env.PG_PARTS_SQL}`)
      }
      await measure("as written, again")
      }
      await client.end()
    }
  })
}

main().then(() => process.exit(0), (error) => {
  console.error(error)
  process.exit(1)
})
