import pg from "pg"
import { isoOfTimestamptz } from "../src/Database/TimestampText.js"
import { summaryJson } from "../src/CallLogs/ListJson.js"
import { sessionJson } from "../src/VoiceSessions/ListJson.js"
const types = ((oid: number, format?: any) => oid === 20 ? (v: string) => Number(v) : oid === 1184 ? isoOfTimestamptz : pg.types.getTypeParser(oid, format)) as any
const main = async () => {
const client = new pg.Client({ connectionString: "postgres://postgres@127.0.0.1:5432/ssv_rest_100k", options: "-c jit=off -c TimeZone=UTC", types: { getTypeParser: types } })
await client.connect()
const which = process.argv[2] ?? "call-logs"
const text = which === "call-logs"
  ? `select ${summaryJson.selectList} from call_logs where tenant_id = $1 order by started_at desc, id desc limit 51`
  : `select 100000::int as count, false as kept, ${sessionJson.selectList} from voice_sessions where tenant_id = $1 order by started_at desc, id limit 50`
const json = which === "call-logs" ? summaryJson : sessionJson
const N = Number(process.argv[3] ?? 200)
const q = () => client.query({ name: which, text, values: ["bench-large"] })
for (let i = 0; i < 50; i++) { const r = await q(); Buffer.from(json.array(r.rows, Math.min(50, r.rows.length))) }
const heap = () => process.memoryUsage().heapUsed
let tq = 0, tj = 0, tb = 0, bodyLen = 0
for (let i = 0; i < N; i++) {
  const a = heap(); const r = await q(); const b = heap()
  const body = `{"ok":true,"calls":${json.array(r.rows, Math.min(50, r.rows.length))}}`; const c = heap()
  const buf = Buffer.from(body); const d = heap()
  tq += b - a; tj += c - b; tb += d - c; bodyLen = buf.length
}
console.log(which, "body", bodyLen, "KB/page: query+rows", (tq / N / 1024).toFixed(1), "json", (tj / N / 1024).toFixed(1), "buffer(heap)", (tb / N / 1024).toFixed(1))
await client.end()

}
main()
