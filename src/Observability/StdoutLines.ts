/**
 * The log's lines reach stdout once per turn of the event loop, as one write. stdout is a pipe
 * or a file, written synchronously: a write per line was a system call (and a wake-up of the
 * reader) per line, ~0.1 ms each when 200 calls a second end and set up on the same loop
 * (bench/RESULTS.md, "Stop 38, helper endcost"). Lines keep their order; the text is unchanged.
 */

/** Past this many characters waiting, they go at once: a burst of lines holds no more than this. */
const MAX_PENDING_CHARS = 64 * 1024

let pending = ""
let scheduled = false

/** Writes what is waiting now (also at exit, and by tests that read stdout). */
export const flushLines = (): void => {
  scheduled = false
  if (pending === "") return
  const text = pending
  pending = ""
  process.stdout.write(text)
}

/** `text` (one or more whole lines, newline included) after the lines before it, by the end of this turn. */
export const writeLines = (text: string): void => {
  pending += text
  if (pending.length >= MAX_PENDING_CHARS) return flushLines()
  if (scheduled) return
  scheduled = true
  setImmediate(flushLines)
}

// A process that exits (process.exit, the end of main, an uncaught error) still prints its last
// lines: 'exit' runs synchronously and stdout's writes to a pipe or a file are synchronous.
process.on("exit", flushLines)
