/**
 * Asks a process started with `--inspect=127.0.0.1:PORT` for its memory breakdown, optionally
 * after a full GC: tells V8 heap from native memory when RSS stays high after a load run.
 * One line for bench/rest.ts, through bench/heap.ts's Inspector.
 */
import { Inspector } from "./heap.js"

export const memoryReport = async (port: number, collectGarbage: boolean): Promise<string> => {
  const inspector = await Inspector.open(port)
  try {
    if (collectGarbage) await inspector.collect()
    const usage = await inspector.usage()
    return Object.entries(usage).map(([k, v]) => `${k} ${(v / 1048576).toFixed(0)} MB`).join(", ")
  } finally {
    inspector.close()
  }
}
