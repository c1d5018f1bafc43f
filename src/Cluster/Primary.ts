import { Effect, Option, Redacted } from "effect"
import { AppConfig } from "../Config.js"
import { startEmbeddedPostgres } from "../Database/Embedded.js"
import { superviseWorkers } from "./Supervisor.js"

/**
 * SERVICE_WORKERS > 1: this process serves nothing itself. It starts the embedded PostgreSQL
 * (when there is no DATABASE_URL) once, for all, forks the workers (each a full replica with
 * its own identity, sharing the listening port) and, after they have all drained and exited,
 * stops PostgreSQL. Returns how they ended.
 */
export const runPrimary = (exec: string) =>
  Effect.scoped(Effect.gen(function*() {
    const config = yield* AppConfig
    const url = Option.isSome(config.databaseUrl)
      ? config.databaseUrl.value
      : yield* startEmbeddedPostgres(config.embeddedDataDir)
    yield* Effect.logInfo("starting workers").pipe(Effect.annotateLogs({ workers: config.serviceWorkers, pid: process.pid }))
    const end = yield* superviseWorkers({
      count: config.serviceWorkers,
      port: config.port,
      exec,
      env: { DATABASE_URL: Redacted.value(url) }
    })
    if (end._tag === "stopped") yield* Effect.logInfo("all workers stopped").pipe(Effect.annotateLogs({ exit_code: end.exitCode }))
    return end
  }))
