/**
 * Which modules the idle built service has loaded, by package, with their source size on disk
 * (the inspector reports every parsed script when its Debugger domain is enabled). A module
 * loaded at start costs its source text, its compiled bytecode and the objects it builds.
 *
 *   npx tsx bench/idle-modules.ts [--top=40] [--list=PACKAGE]
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { benchDatabase } from "./postgres.js"
import { WebSocket } from "ws"
import { freePort } from "./proc.js"

const ROOT = fileURLToPath(new URL("..", import.meta.url))
const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback
const top = Number(arg("top", "40"))
const list = arg("list", "")
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const database = await benchDatabase(`idlemods_${process.pid}_${Date.now()}`)

const port = await freePort()
const inspectPort = await freePort()
const child = spawn(process.execPath, [`--inspect=127.0.0.1:${inspectPort}`, path.join(ROOT, "dist", "main.js")], {
  cwd: ROOT,
  env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", DATABASE_URL: database.url, ADMIN_API_KEY: "bench-admin-key-0123456789abcdef", OTEL_EXPORTER_OTLP_ENDPOINT: "" },
  stdio: ["ignore", "ignore", "inherit"]
})
try {
  for (let i = 0; i < 400; i++) {
    if (await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.status === 200, () => false)) break
    await sleep(200)
  }
  await sleep(2000)
  const [target] = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>
  const ws = new WebSocket(target!.webSocketDebuggerUrl)
  await new Promise((resolve) => ws.once("open", resolve))
  const urls = new Set<string>()
  ws.on("message", (data: Buffer) => {
    const message = JSON.parse(data.toString())
    if (message.method === "Debugger.scriptParsed" && message.params.url.startsWith("file://")) urls.add(message.params.url)
  })
  ws.send(JSON.stringify({ id: 1, method: "Debugger.enable" }))
  await sleep(3000)
  ws.close()
  const byPackage = new Map<string, { files: number; bytes: number; paths: Array<string> }>()
  for (const url of urls) {
    const file = fileURLToPath(url)
    const rel = path.relative(ROOT, file)
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(rel)
    const pkg = match ? match[1]! : rel.split("/").slice(0, 2).join("/")
    const entry = byPackage.get(pkg) ?? { files: 0, bytes: 0, paths: [] }
    entry.files++
    entry.bytes += fs.existsSync(file) ? fs.statSync(file).size : 0
    entry.paths.push(rel)
    byPackage.set(pkg, entry)
  }
  const rows = [...byPackage].sort((a, b) => b[1].bytes - a[1].bytes)
  const total = rows.reduce((sum, [, e]) => sum + e.bytes, 0)
  console.log(`${urls.size} modules, ${(total / 1048576).toFixed(1)} MB of source`)
  for (const [pkg, e] of rows.slice(0, top)) console.log(`${(e.bytes / 1024).toFixed(0).padStart(7)} KB ${String(e.files).padStart(5)}  ${pkg}`)
  if (list !== "") for (const p of byPackage.get(list)?.paths.sort() ?? []) console.log("  " + p)
} finally {
  child.kill("SIGTERM")
  await new Promise((resolve) => child.once("exit", resolve))
  await database.stop()
}
