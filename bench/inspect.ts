/**
 * Asks a process started with `--inspect=127.0.0.1:PORT` for its memory breakdown, optionally
 * after a full GC: tells V8 heap from native memory when RSS stays high after a load run.
 */
import { WebSocket } from "ws"

const call = (ws: WebSocket, id: number, method: string, params: object = {}) =>
  new Promise<any>((resolve) => {
    const onMessage = (data: Buffer) => {
      const message = JSON.parse(data.toString())
      if (message.id !== id) return
      ws.off("message", onMessage)
      resolve(message.result)
    }
    ws.on("message", onMessage)
    ws.send(JSON.stringify({ id, method, params }))
  })

export const memoryReport = async (port: number, collectGarbage: boolean): Promise<string> => {
  const [target] = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>
  const ws = new WebSocket(target!.webSocketDebuggerUrl)
  await new Promise((resolve) => ws.once("open", resolve))
  if (collectGarbage) await call(ws, 1, "HeapProfiler.collectGarbage")
  const result = await call(ws, 2, "Runtime.evaluate", {
    expression: "JSON.stringify(process.memoryUsage())",
    returnByValue: true
  })
  ws.close()
  const usage = JSON.parse(result.result.value) as Record<string, number>
  return Object.entries(usage).map(([k, v]) => `${k} ${(v / 1048576).toFixed(0)} MB`).join(", ")
}
