/**
 * PostgreSQL's CPU per call, by phase, for trees A/B: each tree's built service runs on a fresh
 * database of the local PostgreSQL with bench/capture-statements.cjs preloaded, answers a few calls
 * (webhook, stream, greeting, hang-up, analysis against the fake model), and stops; one call's
 * statements are taken from the capture exactly as the service sent them (texts, prepared names,
 * values): the webhook's admission, the stream start's statement, the record, the analysis's claim
 * and its record. They are then replayed `--calls` times per round on one connection to that tree's
 * database, every id of the call (UUIDs, call and stream SIDs, the stream token's id, message ids)
 * fresh each time and the ids the calls share (tenant, agent version) kept, and the backend's CPU
 * (/proc/<pid>/stat, ticks) is read around each statement and summed per phase. Rounds alternate
 * the trees; `vacuum` before each round (PostgreSQL on this box runs without autovacuum), so each
 * round starts from the same kind of table. Load-independent enough to compare trees on a busy box.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/call-replay.ts [--calls=1000] [--rounds=4] [--ablate] treeA treeB
 *
 * `--on=URL_A,URL_B --tenant=T`: replay each tree's call on that database instead (e.g. copies of
 * ssv_rest_100k migrated by each tree), as tenant T (its rows are what the statements meet).
 */
import { randomUUID } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import pg from "pg"
import { cpuSeconds } from "./proc.js"
import { arg, freshDatabase, greetedBursts, sleep, startBenchModel, startSetUpService, stopService } from "./setup-fixture.js"

interface Sent {
  readonly client: number
  readonly name?: string
  readonly text: string
  readonly values?: ReadonlyArray<unknown>
}

const calls = Number(arg("calls", "1000"))
const rounds = Number(arg("rounds", "4"))
const trees = process.argv.slice(2).filter((a) => !a.startsWith("--")).map((t) => path.resolve(t))
const PHASES = ["webhook", "start", "end", "claim", "analysis"] as const
type Phase = typeof PHASES[number]

const starts = (s: Sent, head: string) => s.text.replace(/\s+/g, " ").trim().startsWith(head)

/** The statements of one call, by phase, from a capture: the last call with all of them. */
const oneCall = (sent: ReadonlyArray<Sent>): Array<[Phase, Sent]> => {
  const admissions = sent.filter((s) => s.text.includes("from admit_inbound_call_seen("))
  for (const admission of admissions.reverse()) {
    const callSid = admission.values![3] as string
    const has = (s: Sent) => JSON.stringify(s.values ?? []).includes(callSid)
    const start = sent.find((s) => starts(s, "with used as") && has(s))
    const record = sent.find((s) => starts(s, 'with "recorded_call"') && has(s))
    if (start === undefined || record === undefined) continue
    const recordText = JSON.stringify(record.values)
    const done = sent.find((s) => starts(s, 'with "recorded_job"') && s.values!.slice(5).some((v) => typeof v === "string" && recordText.includes(v) && /^[0-9a-f-]{36}$/.test(v)))
    if (done === undefined) continue
    const claim = sent.find((s) => starts(s, 'update "call_analysis_jobs" claimed') && s.values![0] === done.values![3])
    if (claim === undefined) continue
    return [["webhook", admission], ["start", start], ["end", record], ["claim", claim], ["analysis", done]]
  }
  throw new Error("no complete call in the capture")
}

const ID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(CA|MZ)[0-9a-f]{32}|msg_[0-9a-f]{32}|[A-Za-z0-9_-]{22})$/

/** The call's own ids: id-like values of its statements that another call's statements do not carry too. */
const callIds = (statements: ReadonlyArray<Sent>, sent: ReadonlyArray<Sent>) => {
  const own = new Set<string>()
  for (const s of statements) for (const v of s.values ?? []) if (typeof v === "string" && ID.test(v)) own.add(v)
  const others = sent.filter((s) => !statements.includes(s) && (s.text.includes("admit_inbound_call_seen(") || starts(s, 'with "recorded_call"')))
  for (const s of others) for (const v of s.values ?? []) if (typeof v === "string") own.delete(v)
  return [...own]
}

const freshValue = (id: string, serial: number) =>
  id.startsWith("CA") || id.startsWith("MZ") ? id.slice(0, 2) + "f" + serial.toString(16).padStart(31, "0")
  : id.startsWith("msg_") ? `msg_${randomUUID().replaceAll("-", "")}`
  : id.length === 22 ? Buffer.from(randomUUID().replaceAll("-", ""), "hex").toString("base64url")
  : randomUUID()

const capture = async (tree: string, baseUrl: URL) => {
  const database = `ssv_call_replay_${path.basename(tree).replace(/\W/g, "_")}_${Date.now()}`
  const { url, drop } = await freshDatabase(baseUrl, database)
  const file = path.join(os.tmpdir(), `${database}.jsonl`)
  const upstream = await startBenchModel()
  const { base, child } = await startSetUpService({
    tree,
    url: url.toString(),
    args: ["--require", path.resolve("bench/capture-statements.cjs"), "dist/main.js"],
    env: { ...upstream.env, STATEMENT_CAPTURE_FILE: file, ANALYSIS_WORKER_ENABLED: "true", MAX_CALL_SETUPS_IN_FLIGHT: "1000" }
  })
  try {
    const results = await greetedBursts(base)(8, 4)
    for (const r of results) if ("ws" in r) r.ws.close()
    await sleep(4000)
  } finally {
    await stopService(child)
    await upstream.close()
  }
  const sent = fs.readFileSync(file, "utf8").trim().split("\n").map((line) => JSON.parse(line) as Sent)
  fs.unlinkSync(file)
  const statements = oneCall(sent)
  const ids = callIds(statements.map(([, s]) => s), sent)
  return { tree, url: url.toString(), drop, statements, ids }
}

const on = arg("on", "").split(",").filter((u) => u !== "")
const tenant = arg("tenant", "")

const replay = async (target: Awaited<ReturnType<typeof capture>>, serial0: number) => {
  const client = new pg.Client({ connectionString: target.url })
  await client.connect()
  client.on("error", () => {})
  await client.query("vacuum")
  const { rows: [{ pid }] } = await client.query<{ pid: number }>("select pg_backend_pid() as pid")
  const cpu = new Map<Phase, number>(PHASES.map((p) => [p, 0]))
  const once = async (serial: number, measured: boolean) => {
    const fresh = new Map(target.ids.map((id) => [id, freshValue(id, serial)]))
    for (const [phase, s] of target.statements) {
      const values = s.values?.map((v) => {
        if (typeof v === "string") {
          if (tenant !== "" && v === "bench") return tenant
          let out = fresh.get(v) ?? v
          if (out === v) for (const [from, to] of fresh) if (out.includes(from)) out = out.replaceAll(from, to)
          return out
        }
        return Array.isArray(v) ? v.map((x) => typeof x === "string" ? fresh.get(x) ?? x : x) : v
      })
      const before = measured ? cpuSeconds(pid) : 0
      const result = await client.query(s.name === undefined ? { text: s.text, values } : { name: s.name, text: s.text, values })
      if (measured) cpu.set(phase, cpu.get(phase)! + cpuSeconds(pid) - before)
      // Each statement did its work (a replay that only misses would be cheap and wrong).
      const row = result.rows[0] ?? {}
      const did = phase === "webhook" ? row.admitted !== null : phase === "start" ? row.held === true
        : phase === "analysis" ? row.recorded === true : result.rowCount! > 0
      if (!did) {
        const { rows: jobs } = await client.query("select status, next_attempt_at, lease_expires_at, created_at from call_analysis_jobs order by created_at desc limit 3")
        throw new Error(`${target.tree}: the replayed ${phase} statement did nothing: ${JSON.stringify(row)} ${JSON.stringify(values)} ${JSON.stringify(jobs)}`)
      }
    }
  }
  for (let i = 0; i < 30; i++) await once(serial0 + i, false)
  const t0 = performance.now()
  for (let i = 0; i < calls; i++) await once(serial0 + 30 + i, true)
  const wall = (performance.now() - t0) / calls
  await client.end()
  return { cpu, wall }
}

/**
 * `--ablate`: for the first tree, the same replay as written and then without each row trigger,
 * non-unique index and foreign key of the tables a call writes, one at a time (put back after).
 */
const TABLES = ["call_logs", "call_admissions", "live_calls", "stream_token_uses", "voice_sessions", "voice_outcomes",
  "voice_session_search", "voice_session_evals", "call_log_latency", "webhook_outbox", "call_analysis_jobs",
  "call_log_hourly", "voice_outcome_hourly", "voice_session_eval_hourly"]

const ablate = async (target: Awaited<ReturnType<typeof capture>>) => {
  const admin = new pg.Client({ connectionString: target.url })
  await admin.connect()
  admin.on("error", () => {})
  const list = `(${TABLES.map((t) => `'${t}'`).join(", ")})`
  const { rows: triggers } = await admin.query<{ tab: string; name: string }>(
    `select tgrelid::regclass::text as tab, tgname as name from pg_trigger
     where not tgisinternal and tgrelid::regclass::text in ${list} and tgtype & 1 = 1 order by 1, 2`)
  const { rows: indexes } = await admin.query<{ tab: string; name: string; def: string }>(
    `select i.indrelid::regclass::text as tab, c.relname as name, pg_get_indexdef(i.indexrelid) as def
     from pg_index i join pg_class c on c.oid = i.indexrelid
     where i.indrelid::regclass::text in ${list} and not i.indisunique order by 1, 2`)
  const { rows: keys } = await admin.query<{ tab: string; name: string; def: string }>(
    `select conrelid::regclass::text as tab, conname as name, pg_get_constraintdef(oid) as def
     from pg_constraint where contype = 'f' and conrelid::regclass::text in ${list} order by 1, 2`)
  let serial = 1
  const row = async (label: string) => {
    const { cpu, wall } = await replay(target, serial)
    serial += calls + 30
    const ms = PHASES.map((p) => (cpu.get(p)! * 1000) / calls)
    console.log(`| ${label} | ${ms.map((m) => m.toFixed(3)).join(" | ")} | ${ms.reduce((a, b) => a + b, 0).toFixed(3)} | ${wall.toFixed(2)} | ${os.loadavg()[0]!.toFixed(1)} |`)
  }
  console.log(`| without | ${PHASES.join(" | ")} | total | wall | load |`)
  console.log(`|---|${PHASES.map(() => "---").join("|")}|---|---|---|`)
  await row("(as written)")
  for (const { tab, name } of triggers) {
    await admin.query(`alter table ${tab} disable trigger ${name}`)
    await row(`trigger ${name} on ${tab}`)
    await admin.query(`alter table ${tab} enable trigger ${name}`)
  }
  for (const { tab, name, def } of indexes) {
    await admin.query(`drop index ${name}`)
    await row(`index ${name} on ${tab}`)
    await admin.query(def)
  }
  for (const { tab, name, def } of keys) {
    await admin.query(`alter table ${tab} drop constraint ${name}`)
    await row(`foreign key ${name} on ${tab}`)
    await admin.query(`alter table ${tab} add constraint ${name} ${def}`)
  }
  await row("(as written, again)")
  await admin.end()
}

const main = async () => {
  const baseUrl = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres")
  const targets: Array<Awaited<ReturnType<typeof capture>>> = []
  for (const tree of trees) targets.push(await capture(tree, baseUrl))
  on.forEach((url, i) => targets[i] = { ...targets[i]!, url })
  try {
    for (const t of targets) {
      console.log(`${t.tree}: ${t.statements.length} statements per call, ${t.ids.length} ids of the call`)
    }
    console.log(`${calls} calls per round; PostgreSQL backend CPU ms per call (/proc ticks), wall ms per call`)
    if (process.argv.includes("--ablate")) return await ablate(targets[0]!)
    console.log(`| round | tree | ${PHASES.join(" | ")} | total | wall | load |`)
    console.log(`|---|---|${PHASES.map(() => "---").join("|")}|---|---|---|`)
    let serial = 1
    for (let r = 0; r < rounds; r++) {
      for (const t of r % 2 === 0 ? targets : [...targets].reverse()) {
        const { cpu, wall } = await replay(t, serial)
        serial += calls + 30
        const ms = PHASES.map((p) => (cpu.get(p)! * 1000) / calls)
        console.log(`| ${r + 1} | ${path.basename(t.tree)} | ${ms.map((m) => m.toFixed(3)).join(" | ")} | ${ms.reduce((a, b) => a + b, 0).toFixed(3)} | ${wall.toFixed(2)} | ${os.loadavg()[0]!.toFixed(1)} |`)
      }
    }
  } catch (error) {
    console.error(error)
    process.exitCode = 1
  } finally {
    for (const t of targets) await t.drop()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
