/**
 * The light side of the benchmark, in one process: N Twilio-like media clients and a fake
 * OpenAI Realtime server, both streaming one 160-byte mu-law frame per call every 20 ms.
 * Plain `ws`, frames built by concatenation, four timers shared by all calls (one per 5 ms
 * phase, so sends are spread instead of bursting), typed arrays for the bookkeeping.
 */
import { performance } from "node:perf_hooks"
import { type RawData, WebSocket, WebSocketServer } from "ws"
import { decodeFrame, Direction, encodeFrame } from "./frames.js"

const FRAME_MS = 20
const PHASES = 4

const MEDIA = Buffer.from("{\"event\":\"media\"")
const MARK = Buffer.from("{\"event\":\"mark\"")
const PAYLOAD_KEY = Buffer.from("\"payload\":\"")
const NAME_KEY = Buffer.from("\"name\":\"")
const APPEND = Buffer.from("{\"type\":\"input_audio_buffer.append\"")
const AUDIO_KEY = Buffer.from("\"audio\":\"")

const startsWith = (data: Buffer, prefix: Buffer) =>
  data.length >= prefix.length && data.compare(prefix, 0, prefix.length, 0, prefix.length) === 0

export class Load {
  /** caller -> service */
  readonly up = new Direction()
  /** model -> caller */
  readonly down = new Direction()
  clears = 0
  marksEchoed = 0
  private readonly clients: Array<WebSocket> = []
  private readonly clientNextDue: Array<number> = []
  private readonly upstreams: Array<{ ws: WebSocket; call: number; nextDue: number; prefix: string }> = []
  private readonly timers: Array<NodeJS.Timeout> = []
  private readonly scratch = { call: 0, seq: 0 }
  private sending = false
  private readonly server: WebSocketServer

  constructor(readonly upstreamPort: number, onListening: () => void) {
    this.server = new WebSocketServer({ port: upstreamPort, host: "127.0.0.1", perMessageDeflate: false, skipUTF8Validation: true }, onListening)
    this.server.on("connection", (ws) => this.acceptUpstream(ws))
  }

  /** Upstream sessions opened so far (by the relay under test). */
  upstreamSessions = 0

  // --- fake OpenAI --------------------------------------------------------------------------

  private acceptUpstream(ws: WebSocket): void {
    this.upstreamSessions++
    const entry = { ws, call: -1, nextDue: 0, prefix: "" }
    ws.on("message", (data: RawData) => {
      const buf = data as Buffer
      if (startsWith(buf, APPEND)) {
        const at = buf.indexOf(AUDIO_KEY, APPEND.length)
        if (at === -1 || !decodeFrame(buf, at + AUDIO_KEY.length, this.scratch)) return
        this.up.receive(this.scratch.call, this.scratch.seq, performance.now())
        if (entry.call === -1) {
          // The first caller frame says which call this session serves: start "speaking".
          entry.call = this.scratch.call
          entry.prefix = `{"type":"response.output_audio.delta","event_id":"ev","response_id":"resp_${entry.call}","item_id":"item_${entry.call}","output_index":0,"content_index":0,"delta":"`
          entry.nextDue = performance.now()
          this.upstreams.push(entry)
        }
        return
      }
      const event = JSON.parse(buf.toString())
      if (event.type === "session.update") ws.send(JSON.stringify({ type: "session.updated", session: event.session }))
      if (event.type === "response.create") {
        ws.send(JSON.stringify({ type: "response.created", response: { id: `resp_greeting`, status: "in_progress" } }))
      }
    })
    ws.on("error", () => {})
    ws.send(JSON.stringify({ type: "session.created", session: { id: "sess" } }))
  }

  // --- Twilio clients -----------------------------------------------------------------------

  /** Opens call number `index` to `url` and sends connected + start. */
  connect(url: string, headers: Record<string, string>): Promise<void> {
    const index = this.clients.length
    this.up.addCall()
    this.down.addCall()
    const streamSid = `MZ${index.toString(16).padStart(32, "0")}`
    const ws = new WebSocket(url, { headers, perMessageDeflate: false, skipUTF8Validation: true })
    this.clients.push(ws)
    this.clientNextDue.push(0)
    const markPrefix = `{"event":"mark","sequenceNumber":"0","streamSid":"${streamSid}","mark":{"name":"`
    ws.on("message", (data: RawData) => {
      const buf = data as Buffer
      if (startsWith(buf, MEDIA)) {
        const at = buf.indexOf(PAYLOAD_KEY, MEDIA.length)
        if (at !== -1 && decodeFrame(buf, at + PAYLOAD_KEY.length, this.scratch)) {
          this.down.receive(this.scratch.call, this.scratch.seq, performance.now())
        }
      } else if (startsWith(buf, MARK)) {
        // Twilio echoes a mark once the audio before it has played; "played" at once here.
        const at = buf.indexOf(NAME_KEY)
        const end = buf.indexOf(0x22, at + NAME_KEY.length)
        ws.send(markPrefix + buf.toString("latin1", at + NAME_KEY.length, end) + "\"}}")
        this.marksEchoed++
      } else if (buf.includes("\"clear\"")) {
        this.clears++
      }
    })
    ws.on("error", () => {})
    return new Promise((resolve, reject) => {
      ws.once("open", () => {
        ws.send(JSON.stringify({ event: "connected", protocol: "Call", version: "1.0.0" }))
        ws.send(JSON.stringify({
          event: "start",
          sequenceNumber: "1",
          start: {
            accountSid: "AC0",
            streamSid,
            callSid: `CA${index.toString(16).padStart(32, "0")}`,
            tracks: ["inbound"],
            mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
            customParameters: {}
          },
          streamSid
        }))
        resolve()
      })
      ws.once("unexpected-response", (_req, res) => {
        let body = ""
        res.on("data", (chunk: Buffer) => (body += chunk.toString()))
        res.on("end", () => reject(new Error(`upgrade refused: ${res.statusCode} ${body}`)))
      })
      ws.once("error", reject)
    })
  }

  // --- the clock ----------------------------------------------------------------------------

  start(): void {
    this.sending = true
    const now = performance.now()
    for (let i = 0; i < this.clients.length; i++) this.clientNextDue[i] = now + (i % PHASES) * (FRAME_MS / PHASES)
    for (let phase = 0; phase < PHASES; phase++) {
      setTimeout(() => {
        if (!this.sending) return
        this.timers.push(setInterval(() => this.tick(phase), FRAME_MS))
        this.tick(phase)
      }, phase * (FRAME_MS / PHASES))
    }
  }

  /** Every call of this phase sends what is due (catching up if the timer ran late). */
  private tick(phase: number): void {
    const now = performance.now()
    for (let i = phase; i < this.clients.length; i += PHASES) {
      const ws = this.clients[i]!
      if (ws.readyState !== WebSocket.OPEN) continue
      let due = this.clientNextDue[i]!
      while (due <= now) {
        const seq = this.up.send(i, performance.now())
        ws.send(`{"event":"media","sequenceNumber":"${seq + 2}","media":{"track":"inbound","chunk":"${seq + 1}","timestamp":"${seq * 20}","payload":"${encodeFrame(i, seq)}"},"streamSid":"MZ"}`)
        due += FRAME_MS
      }
      this.clientNextDue[i] = due
    }
    for (let u = phase; u < this.upstreams.length; u += PHASES) {
      const entry = this.upstreams[u]!
      if (entry.ws.readyState !== WebSocket.OPEN) continue
      while (entry.nextDue <= now) {
        const seq = this.down.send(entry.call, performance.now())
        entry.ws.send(entry.prefix + encodeFrame(entry.call, seq) + "\"}")
        entry.nextDue += FRAME_MS
      }
    }
  }

  stopSending(): void {
    this.sending = false
    for (const timer of this.timers.splice(0)) clearInterval(timer)
  }

  /** Hangs every call up (stop, then close) and waits for the sockets to close. */
  async hangUp(): Promise<void> {
    this.stopSending()
    await Promise.all(this.clients.map((ws) =>
      new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve()
        ws.once("close", () => resolve())
        if (ws.readyState === WebSocket.OPEN) ws.send("{\"event\":\"stop\",\"streamSid\":\"MZ\",\"stop\":{}}")
        ws.close()
        setTimeout(() => ws.terminate(), 3_000).unref()
      })
    ))
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      for (const client of this.server.clients) client.terminate()
      this.server.close(() => resolve())
    })
  }
}
