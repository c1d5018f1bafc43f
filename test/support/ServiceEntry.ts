import * as fs from "node:fs"
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

const ROOT = fileURLToPath(new URL("../..", import.meta.url))

/** The newest modification time of any file below `dir`. */
export const newest = (dir: string): number => {
  let latest = 0
  for (const item of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = `${dir}/${item.name}`
    latest = Math.max(latest, item.isDirectory() ? newest(full) : fs.statSync(full).mtimeMs)
  }
  return latest
}

const distIsFresh = () => {
  const entry = `${ROOT}/dist/main.js`
  return fs.existsSync(entry) && fs.statSync(entry).mtimeMs >= newest(`${ROOT}/src`)
}

/**
 * How a test starts the service as a process of its own (cwd: the repository), after `node`:
 * the built `dist/main.js` when it is newer than every file in src/ (CI builds it first; it is
 * what the container runs), else `src/main.ts` through tsx, so an edit is never tested against
 * a stale build. Loading the built JavaScript skips tsx's per-process loader and transforms:
 * about a second less for each of the suite's ~50 service processes.
 * SSV_TEST_SERVICE=tsx forces the sources.
 */
export const serviceNodeArgs: ReadonlyArray<string> = process.env.SSV_TEST_SERVICE !== "tsx" && distIsFresh()
  ? ["dist/main.js"]
  : ["--import", "tsx", "src/main.ts"]

export interface ServiceExit {
  readonly code: number | null
  readonly stderr: string
  readonly stdout: string
}

/**
 * Runs the service (cwd: the repository) with exactly `env` until it exits, for start-up
 * refusals. One still running after `killAfterMs` (it started when it should not have) is
 * killed, and the result says so in `code` (null) and its output.
 */
export const runServiceUntilExit = (
  env: Record<string, string>,
  killAfterMs = 60_000,
  /** Sees the process as soon as it is spawned (to signal it at a chosen moment). */
  onSpawn?: (child: ChildProcess) => void
): Promise<ServiceExit> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, serviceNodeArgs, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] })
    onSpawn?.(child)
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => (stdout += chunk))
    child.stderr.on("data", (chunk) => (stderr += chunk))
    child.once("error", reject)
    const kill = setTimeout(() => child.kill("SIGKILL"), killAfterMs)
    child.once("exit", (code) => {
      clearTimeout(kill)
      resolve({ code, stderr, stdout })
    })
  })
