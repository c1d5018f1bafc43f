/**
 * System calls per request, per tree (and `bare`), counted by `strace -c` on the server's process
 * while N sequential requests of one path run: exact and load-independent (writes to sockets
 * and stdout, reads, epoll waits). Uses bench/rest-ab.ts's seeded database.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/rest-syscalls.ts [tree|bare ...]
 *   SYS_PATH=/api/v1/call-logs?limit=50 SYS_REQUESTS=200
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import pg from "pg"
import { benchKey, keepAliveGet, seededUrl, startBare, startService, stop } from "./rest-fixture.js"

const N = Number(process.env.SYS_REQUESTS ?? 200)
const TARGET = process.env.SYS_PATH ?? "/api/v1/call-logs?limit=50"

const main = async () => {
  const url = seededUrl()
  const db = new pg.Client({ connectionString: url.toString() })
  await db.connect()
  const key = await benchKey(db)
  await db.end()
  const trees = process.argv.slice(2).length > 0 ? process.argv.slice(2) : [process.cwd()]
  for (const tree of trees) {
    const { agent, get } = keepAliveGet(key)
    const { port, child } = tree === "bare" ? await startBare(url.toString()) : await startService(tree, url.toString())
    for (let i = 0; i < 300; i++) await get(port, TARGET)
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sys-")), "strace.txt")
    const tracer = spawn("strace", ["-f", "-c", "-o", out, "-p", String(child.pid)], { stdio: "ignore" })
    await new Promise((resolve) => setTimeout(resolve, 1000))
    for (let i = 0; i < N; i++) await get(port, TARGET)
    tracer.kill("SIGINT")
    await new Promise((resolve) => tracer.once("exit", resolve))
    const rows = fs.readFileSync(out, "utf8").split("\n")
      .map((line) => line.trim().split(/\s+/))
      .filter((cols) => cols.length >= 5 && /^\d/.test(cols[0]!) && cols.at(-1) !== "total")
      .map((cols) => [cols.at(-1)!, Number(cols[3])] as const)
      .filter(([, calls]) => calls / N >= 0.05)
      .sort((a, b) => b[1] - a[1])
    console.log(`${tree === "bare" ? "bare" : path.basename(path.resolve(tree))} ${TARGET}: ` +
      rows.map(([name, calls]) => `${name} ${(calls / N).toFixed(2)}`).join(", "))
    agent.destroy()
    await stop(child)
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
