import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { EmbeddedPostgresError } from "./EmbeddedErrors.js"
import type { Placement } from "./EmbeddedPlacement.js"

const fail = (message: string, cause?: unknown) => new EmbeddedPostgresError({ message, cause })

const asOwner = (placement: Placement) =>
  placement.owner === undefined ? {} : { uid: placement.owner.uid, gid: placement.owner.gid }

/** Runs `initdb` for `placement.dataDir` (superuser `postgres`, password auth). */
export const initdb = (placement: Placement, password: string) =>
  Effect.try({
    try: () => {
      // The password file must be readable by the account initdb runs as.
      const pwDir = fs.mkdtempSync(path.join(os.tmpdir(), "ssv-pw-"))
      const pwFile = path.join(pwDir, "pw")
      fs.writeFileSync(pwFile, `${password}\n`, { mode: 0o600 })
      if (placement.owner !== undefined) {
        fs.chownSync(pwDir, placement.owner.uid, placement.owner.gid)
        fs.chownSync(pwFile, placement.owner.uid, placement.owner.gid)
      }
      return { pwDir, pwFile }
    },
    catch: (cause) => fail(`cannot write initdb's password file in ${os.tmpdir()} (${cause})`, cause)
  }).pipe(Effect.flatMap(({ pwDir, pwFile }) => runInitdb(placement, pwDir, pwFile)))

const runInitdb = (placement: Placement, pwDir: string, pwFile: string) =>
  Effect.async<void, EmbeddedPostgresError>((resume) => {
    const cleanup = () => fs.rmSync(pwDir, { recursive: true, force: true })
    let output = ""
    const child = spawn(path.join(placement.binDir, "initdb"), [
      `--pgdata=${placement.dataDir}`,
      "--auth=password",
      "--username=postgres",
      `--pwfile=${pwFile}`,
      "--encoding=UTF8",
      "--locale=C"
    ], { ...asOwner(placement), stdio: ["ignore", "pipe", "pipe"] })
    child.stdout.on("data", (chunk) => (output += chunk))
    child.stderr.on("data", (chunk) => (output += chunk))
    child.once("error", (cause) => {
      cleanup()
      resume(Effect.fail(fail(`cannot run initdb (${cause.message})`, cause)))
    })
    child.once("close", (code) => {
      cleanup()
      resume(code === 0 ? Effect.void : Effect.fail(fail(`initdb failed (exit ${code}): ${output.trim().split("\n").pop()}`)))
    })
  })

/** Starts the postmaster on 127.0.0.1:`port`; resolves once it accepts connections. */
export const startPostmaster = (placement: Placement, port: number) =>
  Effect.async<ChildProcess, EmbeddedPostgresError>((resume) => {
    let output = ""
    let ready = false
    const child = spawn(path.join(placement.binDir, "postgres"), [
      "-D",
      placement.dataDir,
      "-p",
      String(port),
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      `unix_socket_directories=`
    ], { ...asOwner(placement), stdio: ["ignore", "ignore", "pipe"] })
    child.stderr.on("data", (chunk) => {
      output += chunk
      if (!ready && output.includes("database system is ready to accept connections")) {
        ready = true
        resume(Effect.succeed(child))
      }
    })
    child.once("error", (cause) => resume(Effect.fail(fail(`cannot run postgres (${cause.message})`, cause))))
    child.once("exit", (code) => {
      if (!ready) resume(Effect.fail(fail(`postgres exited (${code}) before it was ready: ${output.trim().split("\n").pop()}`)))
    })
  })

/** Fast shutdown (SIGINT), waiting for the postmaster to exit. */
export const stopPostmaster = (child: ChildProcess) =>
  Effect.async<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
    child.kill("SIGINT")
  })
