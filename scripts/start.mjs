// `npm start`: builds dist/ when it is missing or older than src/, then runs the service in
// this very process (no child): a SIGTERM to npm's process group reaches one service process,
// which drains (src/Health/Lifecycle.ts), and npm waits for it. With SERVICE_WORKERS > 1 that
// process is the primary: its workers run dist/main.js directly (src/Cluster/), not this script.
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const entry = path.join(root, "dist", "main.js")

const newest = (dir) => {
  let latest = 0
  for (const item of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, item.name)
    latest = Math.max(latest, item.isDirectory() ? newest(full) : fs.statSync(full).mtimeMs)
  }
  return latest
}

const stale = () => {
  if (!fs.existsSync(entry)) return true
  const src = path.join(root, "src")
  return fs.existsSync(src) && newest(src) > fs.statSync(entry).mtimeMs
}

if (stale()) {
  console.error("building dist/ (npm run build) ...")
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc")
  if (!fs.existsSync(tsc)) {
    console.error("dist/ is missing and TypeScript is not installed: run `npm ci` (with dev dependencies) first.")
    process.exit(1)
  }
  const build = spawnSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json")], { stdio: "inherit", cwd: root })
  if (build.status !== 0) process.exit(build.status ?? 1)
  // tsc leaves unchanged outputs alone: mark the build as newer than the sources it came from.
  const now = new Date()
  fs.utimesSync(entry, now, now)
}

// The web console (web/ -> dist/console), built the same way when missing or older than its sources.
const consolePage = path.join(root, "dist", "console", "index.html")
const web = path.join(root, "web")
const apiSources = path.join(root, "src")
const consoleStale = () =>
  fs.existsSync(web) &&
  (!fs.existsSync(consolePage) ||
    Math.max(newest(web), fs.existsSync(apiSources) ? newest(apiSources) : 0) > fs.statSync(consolePage).mtimeMs)

if (consoleStale()) {
  const vite = path.join(root, "node_modules", "vite", "bin", "vite.js")
  if (!fs.existsSync(vite)) {
    console.error("the console (dist/console) is missing and Vite is not installed: run `npm ci` (with dev dependencies); starting without it.")
  } else {
    console.error("building the console (npm run build:console) ...")
    const build = spawnSync(process.execPath, [vite, "build", "--config", path.join(web, "vite.config.ts"), "--logLevel", "warn"], { stdio: "inherit", cwd: root })
    if (build.status !== 0) process.exit(build.status ?? 1)
  }
}

await import(pathToFileURL(entry).href)
