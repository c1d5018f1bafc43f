import { decode, encode, fromBase64, toBase64 } from "./mulaw.js"

/** 20 ms of 8 kHz audio: the frame size Twilio sends and we send. */
const FRAME = 160

/** Collects microphone samples on the audio thread and posts them in 20 ms frames. */
const CAPTURE_WORKLET = `
class Capture extends AudioWorkletProcessor {
  constructor() { super(); this.buffer = new Float32Array(${FRAME}); this.filled = 0 }
  process(inputs) {
    const channel = inputs[0] && inputs[0][0]
    if (channel) for (let i = 0; i < channel.length; i++) {
      this.buffer[this.filled++] = channel[i]
      if (this.filled === ${FRAME}) { this.port.postMessage(this.buffer.slice()); this.filled = 0 }
    }
    return true
  }
}
registerProcessor("capture", Capture)
`

export interface CallEvents {
  readonly onState: (state: "connecting" | "live" | "ended", detail?: string) => void
  /** The agent's audio started or stopped playing (for the speaking indicator). */
  readonly onSpeaking: (speaking: boolean) => void
}

/**
 * A test call from the browser, speaking Twilio's Media Streams protocol over `/media-stream`:
 * `connected` and `start` (with the stream token the API issued), then the microphone as
 * 8 kHz mu-law `media` frames; the agent's `media` is played in order, a `mark` is echoed
 * once the audio before it has played, and `clear` drops whatever has not played (barge-in).
 */
export class BrowserCall {
  private readonly context = new AudioContext({ sampleRate: 8000 })
  private socket: WebSocket | undefined
  private microphone: MediaStream | undefined
  private playing: Array<AudioBufferSourceNode> = []
  private pendingMarks: Array<{ readonly timer: number; readonly name: string }> = []
  private playhead = 0
  private chunk = 0
  private ended = false

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly streamSid: string,
    private readonly callSid: string,
    private readonly events: CallEvents
  ) {}

  async start(): Promise<void> {
    this.events.onState("connecting")
    await this.context.resume()
    this.microphone = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true }
    })
    const worklet = URL.createObjectURL(new Blob([CAPTURE_WORKLET], { type: "text/javascript" }))
    await this.context.audioWorklet.addModule(worklet)
    URL.revokeObjectURL(worklet)
    const source = this.context.createMediaStreamSource(this.microphone)
    const capture = new AudioWorkletNode(this.context, "capture")
    source.connect(capture)

    const socket = new WebSocket(this.url)
    this.socket = socket
    socket.onopen = () => {
      socket.send(JSON.stringify({ event: "connected", protocol: "Call", version: "1.0.0" }))
      socket.send(JSON.stringify({
        event: "start",
        sequenceNumber: "1",
        streamSid: this.streamSid,
        start: {
          streamSid: this.streamSid,
          callSid: this.callSid,
          accountSid: "browser",
          tracks: ["inbound"],
          mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
          customParameters: { stream_token: this.token }
        }
      }))
      this.events.onState("live")
    }
    socket.onmessage = (message) => this.received(String(message.data))
    socket.onclose = (close) => this.finish(close.reason === "" ? undefined : close.reason)
    socket.onerror = () => this.finish("The connection to the service failed")

    capture.port.onmessage = (message: MessageEvent<Float32Array>) => {
      if (socket.readyState !== WebSocket.OPEN) return
      this.chunk++
      socket.send(JSON.stringify({
        event: "media",
        streamSid: this.streamSid,
        media: { track: "inbound", chunk: String(this.chunk), timestamp: String(this.chunk * 20), payload: toBase64(encode(message.data)) }
      }))
    }
  }

  hangUp(): void {
    if (this.socket?.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ event: "stop", streamSid: this.streamSid, stop: { callSid: this.callSid } }))
      this.socket.close(1000, "caller hung up")
    }
    this.finish()
  }

  private received(text: string): void {
    let message: { event?: string; media?: { payload?: string }; mark?: { name?: string } }
    try {
      message = JSON.parse(text)
    } catch {
      return
    }
    if (message.event === "media" && typeof message.media?.payload === "string") this.play(message.media.payload)
    else if (message.event === "mark" && typeof message.mark?.name === "string") this.markAfterPlayback(message.mark.name)
    else if (message.event === "clear") this.clear()
  }

  private play(payload: string): void {
    const samples = decode(fromBase64(payload))
    const buffer = this.context.createBuffer(1, samples.length, 8000)
    buffer.copyToChannel(samples, 0)
    const node = this.context.createBufferSource()
    node.buffer = buffer
    node.connect(this.context.destination)
    const at = Math.max(this.context.currentTime, this.playhead)
    node.start(at)
    this.playhead = at + buffer.duration
    this.playing.push(node)
    this.events.onSpeaking(true)
    node.onended = () => {
      this.playing = this.playing.filter((n) => n !== node)
      if (this.playing.length === 0) this.events.onSpeaking(false)
    }
  }

  /** Twilio answers a mark when the audio sent before it has played. */
  private markAfterPlayback(name: string): void {
    const delay = Math.max(0, (this.playhead - this.context.currentTime) * 1000)
    const timer = window.setTimeout(() => {
      this.pendingMarks = this.pendingMarks.filter((pending) => pending.timer !== timer)
      this.sendMark(name)
    }, delay)
    this.pendingMarks.push({ timer, name })
  }

  private sendMark(name: string): void {
    if (this.socket?.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ event: "mark", streamSid: this.streamSid, mark: { name } }))
    }
  }

  /** Barge-in: drop the agent's unplayed audio; its marks are answered at once, as Twilio does. */
  private clear(): void {
    for (const node of this.playing) node.stop()
    this.playing = []
    for (const pending of this.pendingMarks.splice(0)) {
      clearTimeout(pending.timer)
      this.sendMark(pending.name)
    }
    this.playhead = this.context.currentTime
    this.events.onSpeaking(false)
  }

  private finish(detail?: string): void {
    if (this.ended) return
    this.ended = true
    this.clear()
    this.microphone?.getTracks().forEach((track) => track.stop())
    void this.context.close()
    if (this.socket !== undefined && this.socket.readyState <= WebSocket.OPEN) this.socket.close(1000)
    this.events.onState("ended", detail)
  }
}
