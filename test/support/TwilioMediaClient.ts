import * as HttpServer from "@effect/platform/HttpServer"
import { Effect } from "effect"
import { WebSocket } from "ws"
import { pingRoundTrip, pollUntil, within } from "./Bounded.js"

export interface StartOptions {
  readonly streamSid?: string
  readonly callSid?: string
  readonly customParameters?: Record<string, string>
}

/** Why a connection attempt did not become a WebSocket. */
export interface Refused {
  readonly status: number
  readonly body: string
}

/**
 * Plays Twilio's side of a Media Stream against the service: sends connected / start /
 * media / mark / dtmf / stop as Twilio words them, and keeps every message the service
 * sends back (media, mark, clear) for assertions.
 */
export class TwilioMediaClient {
  readonly received: Array<any> = []
  /** Whether the socket has closed (`closed` tells how). */
  isClosed = false
  private readonly closing: Promise<{ readonly code: number; readonly reason: string }>
  private sequence = 0
  private chunk = 0
  /** How many of the received marks playAll has acknowledged. */
  private played = 0
  streamSid = "MZ00000000000000000000000000000001"

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data) => this.received.push(JSON.parse(data.toString())))
    this.closing = new Promise((resolve) =>
      ws.on("close", (code, reason) => {
        this.isClosed = true
        resolve({ code, reason: reason.toString() })
      })
    )
  }

  /**
   * How the socket closed, once it has: rejects naming the step if it is still open 20 s after
   * being asked (a call that never ends fails the test there, not at its timeout).
   */
  get closed(): Promise<{ readonly code: number; readonly reason: string }> {
    return this.closedWithin(20_000)
  }

  closedWithin(ms: number): Promise<{ readonly code: number; readonly reason: string }> {
    return within(ms, `the media stream ${this.streamSid} to close`, this.closing)
  }

  /**
   * Opens the socket; rejects with `Refused` when the service answers the upgrade with a status,
   * and with an error naming the URL when the handshake has not finished in 15 s.
   */
  static open(url: string, headers: Record<string, string> = {}): Promise<TwilioMediaClient> {
    return within(15_000, `open the media stream ${url}`, new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers })
      ws.once("open", () => resolve(new TwilioMediaClient(ws)))
      ws.once("unexpected-response", (_request, response) => {
        let body = ""
        response.on("data", (chunk: Buffer) => (body += chunk.toString()))
        response.on("end", () => reject({ status: response.statusCode ?? 0, body } satisfies Refused))
      })
      ws.once("error", (error) => reject(error))
    }))
  }

  private send(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify({ ...message, sequenceNumber: String(++this.sequence) }))
  }

  connected(): void {
    this.ws.send(JSON.stringify({ event: "connected", protocol: "Call", version: "1.0.0" }))
  }

  start(options: StartOptions = {}): void {
    if (options.streamSid !== undefined) this.streamSid = options.streamSid
    this.send({
      event: "start",
      start: {
        accountSid: "AC00000000000000000000000000000000",
        streamSid: this.streamSid,
        callSid: options.callSid ?? "CA00000000000000000000000000000001",
        tracks: ["inbound"],
        mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
        customParameters: options.customParameters ?? {}
      },
      streamSid: this.streamSid
    })
  }

  /** One 20 ms frame of caller audio, in Twilio's field order. */
  media(audio: Buffer): void {
    this.chunk++
    this.send({
      event: "media",
      media: { track: "inbound", chunk: String(this.chunk), timestamp: String(this.chunk * 20), payload: audio.toString("base64") },
      streamSid: this.streamSid
    })
  }

  /** What Twilio sends when the audio before a mark has played. */
  mark(name: string): void {
    this.send({ event: "mark", streamSid: this.streamSid, mark: { name } })
  }

  dtmf(digit: string): void {
    this.send({ event: "dtmf", streamSid: this.streamSid, dtmf: { track: "inbound_track", digit } })
  }

  stop(): void {
    this.send({ event: "stop", streamSid: this.streamSid, stop: { accountSid: "AC0", callSid: "CA0" } })
  }

  /** The caller hangs up without a stop (the socket just closes). */
  close(): void {
    this.ws.close()
  }

  /**
   * Resolves once the service has read everything sent before: a WebSocket peer answers a
   * ping after the frames ahead of it, and the service handles each frame as it reads it.
   */
  roundTrip(): Promise<void> {
    return pingRoundTrip(this.ws, `a round trip to the service on media stream ${this.streamSid}`)
  }

  of(event: string): Array<any> {
    return this.received.filter((message) => message.event === event)
  }

  /** The media payloads received, decoded, concatenated in order. */
  audio(): Buffer {
    return Buffer.concat(this.of("media").map((message) => Buffer.from(message.media.payload, "base64")))
  }

  /**
   * Acknowledges (as played) every mark received so far and not yet acknowledged, in order, as
   * Twilio does once each: a mark that arrives later is not played until the next call.
   */
  playAll(): void {
    const marks = this.of("mark")
    for (const mark of marks.slice(this.played)) this.mark(mark.mark.name)
    this.played = marks.length
  }

  waitFor<A>(what: string, probe: () => A | undefined | false, timeoutMs = 10_000): Promise<A> {
    return pollUntil(what, probe, timeoutMs, () => `; received ${JSON.stringify(this.received.map((m) => m.event))}`)
  }
}

/** The `ws://` URL of the test server's media endpoint. */
export const mediaStreamUrl = (query = "") =>
  Effect.map(HttpServer.HttpServer, (server) => {
    const address = server.address
    const port = address._tag === "TcpAddress" ? address.port : 0
    return `ws://127.0.0.1:${port}/media-stream${query}`
  })
