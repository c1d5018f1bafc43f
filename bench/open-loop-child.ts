/**
 * bench/open-loop.ts in a process of its own (forked by bench/list-tail.ts): the generator's
 * event loop and heap carry nothing but the load, so its timer wakes on schedule and a response
 * is read when it arrives, not after whatever else the orchestrating process was doing (samplers,
 * log parsing, its own collections). It takes one options message, runs the load with
 * per-request timestamps, sends the result back (advanced serialization keeps the typed arrays)
 * and exits. Run it under bench/loop-marks.mjs to see its own collections and blocks.
 */
import { openLoop } from "./open-loop.js"

type Options = Parameters<typeof openLoop>[0]

process.once("message", (options: Options) => {
  openLoop({ ...options, record: true }).then(
    (result) => process.send!(result, () => process.exit(0)),
    (error) => {
      console.error(error)
      process.exit(1)
    }
  )
})
process.send!("ready")
