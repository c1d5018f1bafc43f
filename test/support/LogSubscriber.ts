import { WebSocket } from "ws"

/** A `/api/v1/logs` client: every frame parsed, in order; how the socket ended. */
export class LogSubscriber {
  readonly frames: Array<any> = []
  closeCode: number | undefined = undefined
  readonly closed: Promise<number>

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => this.frames.push(JSON.parse(String(data))))
    this.closed = new Promise((resolve) => ws.on("close", (code) => resolve((this.closeCode = code))))
  }

  /** Connects; resolves once the `connected` frame arrived. */
  static open(url: string, headers: Record<string, string>): Promise<LogSubscriber> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers })
      const subscriber = new LogSubscriber(ws)
      ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
      ws.once("error", reject)
      ws.once("message", () => resolve(subscriber))
    })
  }

  /** The status an upgrade was refused with (or "open" when it was accepted). */
  static refusal(url: string, headers: Record<string, string>): Promise<number | "open"> {
    return new Promise((resolve) => {
      const ws = new WebSocket(url, { headers })
      ws.once("unexpected-response", (_req, res) => {
        resolve(res.statusCode ?? 0)
        ws.terminate()
      })
      ws.once("open", () => {
        resolve("open")
        ws.close()
      })
      ws.once("error", () => {})
    })
  }

  of(type: string): Array<any> {
    return this.frames.filter((frame) => frame.type === type)
  }

  waitFor<A>(what: string, probe: () => A | undefined | false, timeoutMs = 10_000): Promise<A> {
    return new Promise((resolve, reject) => {
      const started = Date.now()
      const check = () => {
        const value = probe()
        if (value !== undefined && value !== false) return resolve(value)
        if (Date.now() - started > timeoutMs) {
          return reject(new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(this.frames).slice(0, 2000)}`))
        }
        setTimeout(check, 20)
      }
      check()
    })
  }
}
