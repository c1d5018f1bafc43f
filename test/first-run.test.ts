import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFileSync, spawn } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { eventually } from "./support/Eventually.js"
import { runServiceUntilExit } from "./support/ServiceEntry.js"
import { request, serverSuite } from "./support/TestServer.js"

const ROOT = fileURLToPath(new URL("..", import.meta.url))

serverSuite({ PUBLIC_BASE_URL: "https://voice.example.com" })("the service's own address", (it) => {
  it.effect("the OpenAPI documents name PUBLIC_BASE_URL as their server", () =>
    Effect.gen(function*() {
      for (const doc of ["openapi", "public", "admin"]) {
        const res = yield* request("GET", `/api-docs/${doc}.json`)
        expect(res.status).toBe(200)
        expect(res.body.servers).toEqual([{ url: "https://voice.example.com", description: expect.any(String) }])
      }
    }))
})

/**
 * A free port below the kernel's ephemeral range: the other test files' servers listen on port 0,
 * so a port from that range, released here, could be handed to one of them before `npm start`
 * (which builds first) binds it, and the probes below would then reach that server instead.
 */
const freePort = async (): Promise<number> => {
  const [ephemeralLow] = fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number)
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * (ephemeralLow - 10_000))
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer().once("error", () => resolve(false))
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)))
    })
    if (free) return port
  }
}

const probe = (url: string) =>
  Effect.promise(() => fetch(url, { redirect: "manual" }).then((res) => res, () => undefined))

/**
 * A fresh clone of the committed HEAD, as root, in a mode-700 directory (which the `postgres`
 * account cannot traverse), started with `npm start` and no configuration but PORT (the
 * machine is shared). node_modules is a symlink to this checkout's (a full `npm ci` per run
 * would take minutes); everything else is built from the clone: dist/ and the embedded
 * PostgreSQL's data.
 */
describe("first run", () => {
  it.live.skipIf(process.getuid?.() !== 0)("a fresh clone as root in a mode-700 directory starts with `npm start` and no environment", () =>
    Effect.gen(function*() {
      const home = fs.mkdtempSync(path.join(os.tmpdir(), "ssv-clone-"))
      fs.chmodSync(home, 0o700)
      const clone = path.join(home, "voice")
      execFileSync("git", ["clone", "--quiet", "--no-hardlinks", ROOT, clone])
      fs.symlinkSync(fs.realpathSync(path.join(ROOT, "node_modules")), path.join(clone, "node_modules"))
      const port = yield* Effect.promise(freePort)
      let output = ""
      const child = spawn("npm", ["start"], {
        cwd: clone,
        detached: true,
        env: { PATH: process.env.PATH!, HOME: home, PORT: String(port) },
        stdio: ["ignore", "pipe", "pipe"]
      })
      child.stdout!.on("data", (chunk) => (output += chunk))
      child.stderr!.on("data", (chunk) => (output += chunk))
      yield* Effect.addFinalizer(() =>
        Effect.promise(async () => {
          if (child.exitCode === null && child.signalCode === null) {
            const exited = new Promise((resolve) => child.once("exit", resolve))
            process.kill(-child.pid!, "SIGTERM")
            await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))])
            // Still running after the grace: killed, so the next file is not left competing with it.
            if (child.exitCode === null && child.signalCode === null) {
              try {
                process.kill(-child.pid!, "SIGKILL")
              } catch {
                // gone meanwhile
              }
            }
          }
          // What is left of the group (a service npm's exit left behind) is killed too.
          try {
            process.kill(-child.pid!, "SIGKILL")
          } catch {
            // none left
          }
          // The default data directory moved out of the unreachable clone (see EmbeddedPlacement.ts).
          const moved = createHash("sha256").update(path.join(clone, ".data", "postgres")).digest("hex").slice(0, 12)
          fs.rmSync(path.join("/var/lib/stateset-voice", `data-${moved}`), { recursive: true, force: true })
          fs.rmSync(home, { recursive: true, force: true })
        })
      )

      const base = `http://127.0.0.1:${port}`
      const ready = yield* eventually(probe(`${base}/health/ready`), (res) => res?.status === 200 || child.exitCode !== null, 240_000)
      expect(ready?.status, output).toBe(200)
      expect(child.exitCode, output).toBeNull()
      expect(fs.existsSync(path.join(clone, "dist", "main.js"))).toBe(true)

      const root = yield* probe(`${base}/`)
      expect(root?.status).toBe(302)
      expect(root?.headers.get("location")).toBe("/docs")
      expect((yield* probe(`${base}/docs`))?.status).toBe(200)
      const spec = yield* Effect.promise(() => fetch(`${base}/api-docs/openapi.json`).then((res) => res.json() as Promise<{ servers: Array<{ url: string }> }>))
      expect(spec.servers[0].url).toBe(`http://localhost:${port}`)
      expect(output).not.toContain("EACCES")

      // SIGTERM to npm alone (a supervisor signalling the process it started): npm passes it on, and
      // the service (exec'd by npm's shell, not behind it) drains and exits before npm does. Had only
      // the shell got it, the service would be left running, orphaned, still answering here.
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
      process.kill(child.pid!, "SIGTERM")
      yield* Effect.promise(() => exited)
      expect(yield* probe(`${base}/health/live`), output).toBeUndefined()
    }).pipe(Effect.scoped), 300_000)

  it.live.skipIf(process.getuid?.() !== 0)("a data directory PostgreSQL cannot use stops the service with one line saying what to do", () =>
    Effect.gen(function*() {
      const home = fs.mkdtempSync(path.join(os.tmpdir(), "ssv-locked-"))
      fs.chmodSync(home, 0o700)
      yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(home, { recursive: true, force: true })))
      const port = yield* Effect.promise(freePort)
      // Had it started (the bug this guards against), it is killed after 60 s and reported below.
      const result = yield* Effect.promise(() =>
        runServiceUntilExit({ PATH: process.env.PATH!, HOME: home, PORT: String(port), EMBEDDED_PG_DATA_DIR: path.join(home, "pg") })
      )
      expect(result.code).toBe(1)
      const lines = result.stderr.trim().split("\n")
      expect(lines, result.stderr).toHaveLength(1)
      expect(lines[0]).toContain(`stateset-voice cannot start: embedded PostgreSQL: EMBEDDED_PG_DATA_DIR=${path.join(home, "pg")}`)
      expect(lines[0]).toContain("set DATABASE_URL")
      expect(result.stdout + result.stderr).not.toMatch(/^\s+at /m)
    }).pipe(Effect.scoped), 120_000)
})
