/**
 * Every Effect operation one request runs, in order (bench/ops-trace-main.ts), for a tree and
 * a path: where a request's operations go. Uses bench/rest-ab.ts's seeded database.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/ops-trace.ts <tree> <path> [out.txt]
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import pg from "pg"
import { freePort } from "./proc.js"

const DB = process.env.AB_DB ?? "ssv_rest_ab"

const main = async () => {
  const [tree, target, out] = process.argv.slice(2)
  const url = new URL(process.env.DATABASE_URL!)
  url.pathname = `/${DB}`
  const db = new pg.Client({ connectionString: url.toString() })
  await db.connect()
  const key = (await db.query("select token from bench_ab_key")).rows[0].token as string
  await db.end()
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const get = (port: number, p: string) =>
    new Promise<number>((resolve, reject) => {
      http.get({ host: "127.0.0.1", port, path: p, agent, headers: { authorization: `Bearer ${key}` } }, (res) => {
        res.resume()
        res.on("end", () => resolve(res.statusCode!))
      }).on("error", reject)
    })
  const port = await freePort()
  const child = spawn(process.execPath, ["--import", "tsx", "bench/ops-trace-main.ts"], {
    cwd: tree,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: url.toString(),
      ADMIN_API_KEY: "bench-admin-key-0123456789abcdefghij",
      RATE_LIMIT_PER_IP_PER_MINUTE: "100000000",
      RATE_LIMIT_PER_TENANT_PER_MINUTE: "100000000",
      SHUTDOWN_GRACE_SECONDS: "0"
    },
    stdio: ["ignore", "ignore", "pipe"]
  })
  for (let ready = false; !ready;) {
    await new Promise((resolve) => setTimeout(resolve, 250))
    ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.status < 500, () => false)
  }
  for (let i = 0; i < 30; i++) await get(port, target!)
  await new Promise((resolve) => setTimeout(resolve, 200))
  child.kill("SIGUSR1")
  await new Promise((resolve) => setTimeout(resolve, 50))
  const status = await get(port, target!)
  const lines = await new Promise<Array<string>>((resolve) => {
    let buffer = ""
    child.stderr!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString()
      const line = buffer.split("\n").find((l) => l.startsWith("{\"trace\""))
      if (line !== undefined) resolve((JSON.parse(line) as { trace: Array<string> }).trace)
    })
    child.kill("SIGUSR1")
  })
  const text = `${target} status ${status}: ${lines.length} operations\n${lines.join("\n")}\n`
  if (out !== undefined) fs.writeFileSync(out, text)
  else process.stdout.write(text)
  child.kill("SIGTERM")
  await new Promise((resolve) => child.once("exit", resolve))
  agent.destroy()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
