/**
 * Every Effect operation one request runs, in order (bench/ops-trace-main.ts), for a tree and
 * a path: where a request's operations go. Uses bench/rest-ab.ts's seeded database.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/ops-trace.ts <tree> <path> [out.txt]
 */
import * as fs from "node:fs"
import pg from "pg"
import { benchKey, keepAliveGet, seededUrl, startService, stop } from "./rest-fixture.js"

const main = async () => {
  const [tree, target, out] = process.argv.slice(2)
  const url = seededUrl()
  const db = new pg.Client({ connectionString: url.toString() })
  await db.connect()
  const key = await benchKey(db)
  await db.end()
  const { agent, get } = keepAliveGet(key)
  const { port, child } = await startService(tree!, url.toString(), { entry: "bench/ops-trace-main.ts", stdio: ["ignore", "ignore", "pipe"] })
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
  await stop(child)
  agent.destroy()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
