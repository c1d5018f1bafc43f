import { WebSocket } from "ws"
import { pollUntil, within } from "./Bounded.js"

/** A `/api/v1/logs` client: every frame parsed, in order; how the socket ended. */
export class LogSubscriber {
  readonly frames: Array<any> = []
  closeCode: number | undefined = undefined
  private readonly closing: Promise<number>

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => this.frames.push(JSON.parse(String(data))))
    this.closing = new Promise((resolve) => ws.on("close", (code) => resolve((this.closeCode = code))))
  }

  /** The close code, once closed; rejects naming the step if still open 20 s after being asked. */
  get closed(): Promise<number> {
    return within(20_000, "the logs socket to close", this.closing)
  }

  /** Connects; resolves once the `connected` frame arrived (fails if it has not in 15 s). */
  static open(url: string, headers: Record<string, string>): Promise<LogSubscriber> {
    return within(15_000, `open ${url} and read its connected frame`, new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers })
      const subscriber = new LogSubscriber(ws)
      ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
      ws.once("error", reject)
      ws.once("close", (code) => reject(new Error(`closed (${code}) before its connected frame`)))
      ws.once("message", () => resolve(subscriber))
    }))
  }

  /** The status an upgrade was refused with (or "open" when it was accepted). */
  static refusal(url: string, headers: Record<string, string>): Promise<number | "open"> {
    return within(15_000, `the answer to an upgrade of ${url}`, new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers })
      ws.once("unexpected-response", (_req, res) => {
        resolve(res.statusCode ?? 0)
        ws.terminate()
      })
      ws.once("open", () => {
        resolve("open")
        ws.close()
      })
      // After an answer (the terminate above) errors are expected and ignored; before one they fail.
      ws.on("error", reject)
    }))
  }

  of(type: string): Array<any> {
    return this.frames.filter((frame) => frame.type === type)
  }

  waitFor<A>(what: string, probe: () => A | undefined | false, timeoutMs = 10_000): Promise<A> {
    return pollUntil(what, probe, timeoutMs, () => `; frames: ${JSON.stringify(this.frames).slice(0, 2000)}`)
  }
}
