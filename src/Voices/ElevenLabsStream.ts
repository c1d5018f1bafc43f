import { type RawData, WebSocket } from "ws"
import { type Alignment, beginStream, decodeServerMessage, type ElevenLabsTarget, endStream, streamInputUrl, streamText } from "./Protocol.js"

export interface StreamTimings {
  readonly connectTimeoutMs: number
  readonly firstAudioTimeoutMs: number
}

/** What one stream reports to the call's voice. */
export interface StreamEvents {
  chunk(stream: ElevenLabsStream, audio: string, alignment: Alignment | undefined): void
  final(stream: ElevenLabsStream): void
  failed(stream: ElevenLabsStream, reason: string): void
}

/**
 * One ElevenLabs `stream-input` socket: the spoken form of one assistant item. Text sent
 * before the socket is open waits in order. Any failure (cannot connect, an error message,
 * the socket closing before `isFinal`, no audio in time) is reported once; the reasons
 * name what happened and never carry the key.
 */
export class ElevenLabsStream {
  /** All the text sent so far: what this item says. */
  text = ""
  private readonly ws: WebSocket
  private readonly pending: Array<string> = []
  private open = false
  private over = false
  private heard = false
  private timer: ReturnType<typeof setTimeout> | undefined = undefined

  constructor(
    readonly responseId: string,
    readonly itemId: string,
    target: ElevenLabsTarget,
    private readonly timings: StreamTimings,
    private readonly events: StreamEvents
  ) {
    this.ws = new WebSocket(streamInputUrl(target), {
      headers: { "xi-api-key": target.apiKey },
      perMessageDeflate: false,
      handshakeTimeout: timings.connectTimeoutMs
    })
    this.ws.on("open", () => {
      this.open = true
      this.ws.send(beginStream())
      for (const message of this.pending.splice(0)) this.ws.send(message)
    })
    this.ws.on("message", this.onMessage)
    this.ws.on("error", (error: Error) => this.fail(`cannot reach ElevenLabs: ${error.message}`))
    this.ws.on("close", (code: number) => this.fail(`ElevenLabs closed the stream before its end (${code})`))
  }

  /** More text of the item; the first starts the wait for audio. */
  send(text: string): void {
    if (this.over || text === "") return
    this.text += text
    if (this.timer === undefined) {
      this.timer = setTimeout(
        () => this.fail(`no audio from ElevenLabs within ${this.timings.firstAudioTimeoutMs} ms`),
        this.timings.firstAudioTimeoutMs
      )
    }
    this.write(streamText(text))
  }

  /** The item's text is complete: ElevenLabs speaks the rest, then says `isFinal`. */
  end(): void {
    if (!this.over) this.write(endStream())
  }

  /** Stops it (barge-in, fallback, hang-up): nothing more is reported. */
  close(): void {
    if (this.over) return
    this.over = true
    clearTimeout(this.timer)
    this.ws.terminate()
  }

  private write(message: string): void {
    if (this.open) this.ws.send(message)
    else this.pending.push(message)
  }

  private fail(reason: string): void {
    if (this.over) return
    this.close()
    this.events.failed(this, reason)
  }

  private readonly onMessage = (data: RawData, isBinary: boolean): void => {
    if (this.over || isBinary) return
    const message = decodeServerMessage(data.toString())
    if (message === undefined) return
    if (typeof message.audio === "string" && message.audio.length > 0) {
      if (!this.heard) {
        this.heard = true
        clearTimeout(this.timer)
      }
      this.events.chunk(this, message.audio, message.alignment ?? undefined)
      if (this.over) return
    } else if (message.error != null || (message.message != null && message.isFinal !== true)) {
      return this.fail(`ElevenLabs error: ${message.error ?? "error"}${message.message != null ? ` (${message.message.slice(0, 200)})` : ""}`)
    }
    if (message.isFinal === true) {
      this.close()
      this.events.final(this)
    }
  }
}
