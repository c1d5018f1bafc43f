/**
 * CPU of PostgreSQL's backend per inbound admission (the webhook's one statement,
 * `admit_inbound_call_seen`), read from /proc/<backend pid>/stat: load-independent, unlike its
 * latency on a shared box. Databases by URL (migrated; e.g. one to 0032, one to 0033), each
 * with the tenant `bench`; `LIVE` ledger rows of that tenant present (a burst's calls), the
 * admissions cleared before each round. Rounds alternate the databases; transactions commit
 * without a flush (as the admission does), so the CPU is the statement's, planning included.
 *
 *   npx tsx bench/admission-cpu.ts postgres://.../db_a postgres://.../db_b   (ADMISSIONS=2000 ROUNDS=3 LIVE=800)
 */
import * as fs from "node:fs"
import * as os from "node:os"
import pg from "pg"

const ADMISSIONS = Number(process.env.ADMISSIONS ?? 2000)
const ROUNDS = Number(process.env.ROUNDS ?? 3)
const LIVE = Number(process.env.LIVE ?? 800)
const TICK_MS = 10 // USER_HZ 100

const cpuMs = (pid: number) => {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS
}

const prepare = async (url: string) => {
  const db = new pg.Client({ connectionString: url })
  await db.connect()
  await db.query("insert into tenants (tenant_id, config, etag) values ('bench', '{}', 'e') on conflict do nothing")
  await db.query("delete from live_calls where tenant_id = 'bench'")
  await db.query(`insert into live_calls (tenant_id, stream_sid, call_sid, replica_id, direction, model, voice, started_at)
    select 'bench', 'MZ' || g, 'CAlive' || g, 'r1', 'inbound', 'm', 'v', now() from generate_series(1, ${LIVE}) g`)
  await db.end()
}

const round = async (url: string) => {
  const db = new pg.Client({ connectionString: url })
  await db.connect()
  await db.query("delete from call_admissions where tenant_id = 'bench'")
  await db.query("delete from call_logs where tenant_id = 'bench'")
  const pid = (await db.query("select pg_backend_pid() as pid")).rows[0].pid as number
  const before = cpuMs(pid)
  for (let i = 0; i < ADMISSIONS; i++) {
    await db.query(`select admitted, set_config('synchronous_commit', 'off', true) from admit_inbound_call_seen(
      gen_random_uuid(), 'bench', 'r1', 'CA' || gen_random_uuid(), now(), now() - interval '100 milliseconds',
      100000, 100000, gen_random_uuid(), '+15550001000', '+15550002000', null, 'ringing')`)
  }
  const used = cpuMs(pid) - before
  await db.end()
  return used / ADMISSIONS
}

const urls = process.argv.slice(2)
for (const url of urls) await prepare(url)
console.log(`${ADMISSIONS} admissions per round, ${LIVE} live calls of the tenant`)
for (let r = 0; r < ROUNDS; r++) {
  for (const url of r % 2 === 0 ? urls : [...urls].reverse()) {
    const ms = await round(url)
    console.log(`${new URL(url).pathname.slice(1)}: ${ms.toFixed(3)} ms backend CPU per admission (load ${os.loadavg()[0]!.toFixed(1)})`)
  }
}
