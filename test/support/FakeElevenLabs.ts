import { Context, Effect, Layer } from "effect"
import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"
import { type WebSocket, WebSocketServer } from "ws"
import { closableServer, pollUntil } from "./Bounded.js"

/** How a stream misbehaves: refused at connect, an error message, a dropped socket, or silence (no audio ever). */
export type StreamFailure = "refuse" | "error" | "drop" | "silent"

/** One `stream-input` socket the service opened. */
export class FakeElevenLabsStream {
  /** Every message, parsed, in arrival order. */
  readonly received: Array<any> = []
  /** The base64 audio chunks sent back, in order. */
  readonly sent: Array<string> = []
  closed = false

  constructor(
    readonly voiceId: string,
    readonly query: URLSearchParams,
    readonly headers: IncomingHttpHeaders,
    private readonly ws: WebSocket
  ) {
    ws.on("close", () => (this.closed = true))
  }

  /** The text it was given, joined (the opening " " and the closing "" included). */
  get text(): string {
    return this.received.map((m) => m.text ?? "").join("")
  }

  send(message: Record<string, unknown>): void {
    if (!this.closed) this.ws.send(JSON.stringify(message))
  }

  /** One audio chunk with its alignment (characters spread evenly over the chunk). */
  audio(chunk: Buffer, chars: string): void {
    const ms = chunk.length / 8
    const list = [...chars]
    this.sent.push(chunk.toString("base64"))
    this.send({
      audio: chunk.toString("base64"),
      isFinal: null,
      normalizedAlignment: null,
      alignment: {
        chars: list,
        charStartTimesMs: list.map((_, i) => Math.floor((i * ms) / Math.max(1, list.length))),
        charDurationsMs: list.map(() => Math.floor(ms / Math.max(1, list.length)))
      }
    })
  }

  final(): void {
    this.send({ isFinal: true })
    this.ws.close(1000)
  }

  fail(how: StreamFailure): void {
    if (how === "error") {
      this.send({ message: "The API key you used is over its quota.", error: "quota_exceeded", code: 1008 })
      this.ws.close(1008)
    } else if (how === "drop") this.ws.terminate()
  }
}

/** What the fake says for a finished text: the audio chunks, each with the characters it speaks. */
export type Speech = (text: string) => ReadonlyArray<{ readonly audio: Buffer; readonly chars: string }>

/** Deterministic mu-law for `text`: one 1000-byte chunk per word. */
export const speechOf: Speech = (text) =>
  text.trim().split(/(?<=\s)/).filter((w) => w.trim() !== "").map((word, w) => ({
    audio: Buffer.from(Array.from({ length: 1000 }, (_, i) => (word.charCodeAt(0) * 3 + w * 11 + i) & 0xff)),
    chars: word
  }))

/**
 * A local stand-in for ElevenLabs: `GET /v1/models` (the reachability check: 200 for a known
 * key, 401 otherwise, 503 while `down`) and the `stream-input` WebSocket
 * (`/v1/text-to-speech/{voice_id}/stream-input`): it collects the text and, once the text
 * ends (`{"text":""}`), speaks it (`speech`) and says `isFinal`. Failures are scripted per
 * stream (`failNext`), or held (`hold`: audio but never the end).
 */
export class FakeElevenLabs {
  readonly streams: Array<FakeElevenLabsStream> = []
  readonly keys = new Set<string>()
  /** Probes (GET /v1/models) seen. */
  probes = 0
  /** The API answers 503 and refuses sockets. */
  down = false
  /** Failures for the next streams, in order (undefined: a healthy stream). */
  failNext: Array<StreamFailure | undefined> = []
  /** Stream the audio but never `isFinal` (the caller can barge in meanwhile). */
  hold = false
  /** Speak each text message as it arrives (as `try_trigger_generation` may), not only at the end. */
  eager = false
  speech: Speech = speechOf

  constructor(readonly url: string) {}

  waitFor<A>(what: string, probe: () => A | undefined | false, timeoutMs = 10_000): Promise<A> {
    return pollUntil(what, probe, timeoutMs)
  }

  /** Called per message of a stream. */
  handle(stream: FakeElevenLabsStream, failure: StreamFailure | undefined, message: any): void {
    if (failure !== undefined && message.text !== " ") {
      if (failure !== "silent") stream.fail(failure)
      return
    }
    if (this.eager && typeof message.text === "string" && message.text.trim() !== "") {
      for (const chunk of this.speech(message.text)) stream.audio(chunk.audio, chunk.chars)
    }
    if (message.text !== "") return
    if (!this.eager) for (const chunk of this.speech(stream.text)) stream.audio(chunk.audio, chunk.chars)
    if (!this.hold) stream.final()
  }
}

export const makeFakeElevenLabs = Effect.acquireRelease(
  Effect.async<{ fake: FakeElevenLabs; close: () => Promise<void> }>((resume) => {
    let fake: FakeElevenLabs
    const server = createServer((req, res) => {
      if (req.method === "GET" && req.url === "/v1/models") {
        fake.probes++
        if (fake.down) return res.writeHead(503).end()
        const key = req.headers["xi-api-key"]
        if (typeof key !== "string" || !fake.keys.has(key)) return res.writeHead(401, { "content-type": "application/json" }).end("{\"detail\":\"invalid_api_key\"}")
        return res.writeHead(200, { "content-type": "application/json" }).end("[]")
      }
      res.writeHead(404).end()
    })
    const wss = new WebSocketServer({ noServer: true })
    const close = closableServer(server, "the fake ElevenLabs server")
    server.on("upgrade", (request, socket, head) => {
      const url = new URL(request.url ?? "/", "http://fake")
      const match = /^\/v1\/text-to-speech\/([^/]+)\/stream-input$/.exec(url.pathname)
      const key = request.headers["xi-api-key"]
      if (fake.failNext[0] === "refuse") {
        fake.failNext.shift()
        socket.end("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n")
        return
      }
      if (match === null || fake.down || typeof key !== "string" || !fake.keys.has(key)) {
        socket.end("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
        return
      }
      wss.handleUpgrade(request, socket, head, (ws) => {
        const stream = new FakeElevenLabsStream(decodeURIComponent(match[1]!), url.searchParams, request.headers, ws)
        const failure = fake.failNext.shift()
        fake.streams.push(stream)
        ws.on("message", (data) => {
          const message = JSON.parse(data.toString())
          stream.received.push(message)
          fake.handle(stream, failure, message)
        })
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      fake = new FakeElevenLabs(`http://127.0.0.1:${port}`)
      resume(Effect.succeed({ fake, close }))
    })
  }),
  ({ close }) => Effect.promise(close)
).pipe(Effect.map(({ fake }) => fake))

export class FakeElevenLabsServer extends Context.Tag("test/FakeElevenLabs")<FakeElevenLabsServer, FakeElevenLabs>() {}

/** Provides the fake, and builds a layer (e.g. the media suite) that needs its URL. */
export const withFakeElevenLabs = <A, E, R>(build: (fake: FakeElevenLabs) => Layer.Layer<A, E, R>) =>
  Layer.unwrapScoped(
    Effect.map(makeFakeElevenLabs, (fake) => Layer.merge(build(fake), Layer.succeed(FakeElevenLabsServer, fake)))
  )
