import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import { fileURLToPath } from "node:url"
import { type Browser, chromium } from "playwright-core"
import { newest } from "./ServiceEntry.js"

const ROOT = fileURLToPath(new URL("../..", import.meta.url))
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"

/** The console's static files: built when missing or older than their sources (CI builds them first). */
export const ensureConsoleBuilt = Effect.sync(() => {
  const page = `${ROOT}/dist/console/index.html`
  if (fs.existsSync(page) && fs.statSync(page).mtimeMs >= Math.max(newest(`${ROOT}/web`), newest(`${ROOT}/src`))) return
  const build = spawnSync(process.execPath, [`${ROOT}/node_modules/vite/bin/vite.js`, "build", "--config", `${ROOT}/web/vite.config.ts`, "--logLevel", "warn"], {
    cwd: ROOT,
    // vitest sets NODE_ENV=test, which Vite would keep: React's development build, larger and slower.
    env: { ...process.env, NODE_ENV: "production" },
    stdio: "inherit"
  })
  if (build.status !== 0) throw new Error("the console build failed")
})

/**
 * Headless Chromium (Debian's package), flags as this machine needs them: no sandbox as root,
 * no background networking (the network is closed), a fake microphone when `wav` is given.
 */
export const launchChromium = (options: { readonly fakeMicrophoneWav?: string } = {}) =>
  Effect.acquireRelease(
    Effect.promise((): Promise<Browser> =>
      chromium.launch({
        executablePath: CHROMIUM,
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--autoplay-policy=no-user-gesture-required",
          ...(options.fakeMicrophoneWav === undefined ? [] : [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            `--use-file-for-fake-audio-capture=${options.fakeMicrophoneWav}`
          ])
        ]
      })
    ),
    (browser) => Effect.promise(() => browser.close())
  )

export const browserAvailable = fs.existsSync(CHROMIUM)
