import cluster, { type Worker } from "node:cluster"
import { Effect, Runtime } from "effect"
import { noteDeath } from "./Restarts.js"

/** Tells a worker which of the N places it fills (1..N): its metrics listener is METRICS_PORT + slot - 1. */
export const WORKER_SLOT_VARIABLE = "SERVICE_WORKER_SLOT"

const SIGNALS = ["SIGTERM", "SIGINT"] as const

/**
 * How the workers ended: `stopped` after a signal (every worker drained and exited), or
 * `failedToStart` when a worker of the first generation exited before it ever served (it
 * has printed its own one-line reason; starting more would only repeat it).
 */
export type WorkersEnd =
  | { readonly _tag: "stopped"; readonly exitCode: number }
  | { readonly _tag: "failedToStart"; readonly exitCode: number }

/**
 * Forks `count` workers running `exec` and keeps them there until SIGTERM/SIGINT, which is
 * passed to every worker (each drains as a lone process does); resolves once all have exited.
 * A worker that dies while serving is replaced, sooner or later by how often workers died
 * lately (Restarts.ts), so a crashing build cannot spin. Its calls are reaped by the ledger's
 * heartbeats, as a crashed replica's are.
 */
export const superviseWorkers = (options: {
  readonly count: number
  /** The public port: a worker listening there is serving (its metrics listener does not count). */
  readonly port: number
  readonly exec: string
  readonly env: Record<string, string>
}) =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    const log = (effect: Effect.Effect<void>) => Runtime.runFork(runtime)(effect)
    cluster.setupPrimary({ exec: options.exec })

    return yield* Effect.async<WorkersEnd>((resume) => {
      const live = new Map<number, Worker>()
      const served = new Set<number>()
      const pending = new Set<NodeJS.Timeout>()
      const deaths: Array<number> = []
      let stopping = false
      let end: WorkersEnd = { _tag: "stopped", exitCode: 0 }
      const finish = () => {
        for (const name of SIGNALS) process.off(name, onSignal)
        resume(Effect.succeed(end))
      }

      const stopAll = (signal: NodeJS.Signals) => {
        stopping = true
        for (const timer of pending) clearTimeout(timer)
        pending.clear()
        for (const worker of live.values()) worker.process.kill(signal)
        if (live.size === 0) finish()
      }

      const fork = (slot: number) => {
        const worker = cluster.fork({ ...options.env, [WORKER_SLOT_VARIABLE]: String(slot) })
        live.set(slot, worker)
        const onListening = (address: { readonly port: number }) => {
          if (address.port !== options.port) return
          worker.off("listening", onListening)
          served.add(slot)
          log(Effect.logInfo("worker serving").pipe(Effect.annotateLogs({ slot, pid: worker.process.pid })))
        }
        worker.on("listening", onListening)
        worker.once("exit", (code, signal) => {
          live.delete(slot)
          const failed = code !== 0 || signal !== null
          if (stopping) {
            // A worker still starting has no handler for the signal yet and dies of it: it had
            // nothing to drain, so that is a clean stop, not a failure.
            const endedByOurSignal = !served.has(slot) && signal !== null && (SIGNALS as ReadonlyArray<string>).includes(signal)
            if (failed && !endedByOurSignal && end.exitCode === 0) end = { ...end, exitCode: code ?? 1 }
            if (live.size === 0) finish()
            return
          }
          if (!served.has(slot)) {
            end = { _tag: "failedToStart", exitCode: code === 0 || code === null ? 1 : code }
            return stopAll("SIGTERM")
          }
          const delay = noteDeath(deaths, Date.now())
          log(Effect.logWarning("worker exited while serving; replacing it").pipe(
            Effect.annotateLogs({ slot, pid: worker.process.pid, code, signal, replace_in_ms: delay })
          ))
          const timer = setTimeout(() => {
            pending.delete(timer)
            if (!stopping) fork(slot)
          }, delay)
          pending.add(timer)
        })
      }

      // Repeats are passed on too: a worker counts a second SIGINT a moment later as "stop now".
      function onSignal(signal: NodeJS.Signals) {
        if (!stopping) log(Effect.logInfo("stopping workers").pipe(Effect.annotateLogs({ signal, workers: live.size })))
        stopAll(signal)
      }
      for (const name of SIGNALS) process.on(name, onSignal)
      for (let slot = 1; slot <= options.count; slot++) fork(slot)

      // Interrupted (a forced stop): what is still running is killed, not left behind.
      return Effect.sync(() => {
        for (const name of SIGNALS) process.off(name, onSignal)
        for (const timer of pending) clearTimeout(timer)
        for (const worker of live.values()) worker.process.kill("SIGKILL")
      })
    })
  })
