import { Logger } from "effect"

/**
 * `Logger.json`'s lines, written straight to stdout. `Logger.json` goes through `console.log`,
 * which re-formats its argument and checks colour support for every line: a few percent of
 * each request's CPU with the access log (bench/RESULTS.md). Same JSON, same stream.
 */
const toStdout = Logger.make<unknown, void>((options) => {
  process.stdout.write(`${Logger.jsonLogger.log(options)}\n`)
})

export const JsonLogLive = Logger.replace(Logger.defaultLogger, toStdout)
