/**
 * `npm run bench`: every benchmark of the service, one after the other, each in its own
 * process (arguments after `--` go to each of them).
 */
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

const BENCHES = ["media.ts", "rest.ts"]

for (const bench of BENCHES) {
  const script = fileURLToPath(new URL(bench, import.meta.url))
  const result = spawnSync(process.execPath, ["--import", "tsx", script, ...process.argv.slice(2)], { stdio: "inherit" })
  if (result.status !== 0) process.exit(result.status ?? 1)
}
