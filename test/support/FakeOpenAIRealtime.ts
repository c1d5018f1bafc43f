import { Context, Effect, Layer } from "effect"
import type { IncomingHttpHeaders } from "node:http"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { type WebSocket, WebSocketServer } from "ws"
import { closableServer, pingRoundTrip, pollUntil } from "./Bounded.js"

/** A reply the fake streams for a `response.create`: mu-law chunks and what they "say". */
export interface FakeReply {
  readonly audio: ReadonlyArray<Buffer>
  readonly transcript?: string
  /** Stop before `response.done`: the response stays active (for cancel tests). */
  readonly hold?: boolean
  /** Use the beta event names (response.audio.delta, ...). */
  readonly beta?: boolean
}

/** One upstream session the service opened. */
export class FakeRealtimeConnection {
  /** Every client event, parsed, in arrival order. */
  readonly received: Array<any> = []
  closed = false
  /** The close code the service sent (1000 when it closed on purpose), or 1006 (the socket dropped). */
  closeCode: number | undefined = undefined
  private responses = 0

  constructor(
    readonly id: number,
    readonly url: string,
    readonly headers: IncomingHttpHeaders,
    private readonly ws: WebSocket
  ) {
    ws.on("close", (code) => {
      this.closed = true
      this.closeCode = code
    })
  }

  send(event: Record<string, unknown>): void {
    if (!this.closed) this.ws.send(JSON.stringify(event))
  }

  /** Base64 payloads of every `input_audio_buffer.append`, in order. */
  get appended(): Array<string> {
    return this.received.filter((e) => e.type === "input_audio_buffer.append").map((e) => e.audio)
  }

  eventsOf(type: string): Array<any> {
    return this.received.filter((e) => e.type === type)
  }

  /** Streams `reply` as a GA (or beta) response; returns its ids. */
  reply(reply: FakeReply): { readonly responseId: string; readonly itemId: string } {
    const n = ++this.responses
    const responseId = `resp_${this.id}_${n}`
    const itemId = `item_${this.id}_${n}`
    const names = reply.beta
      ? { delta: "response.audio.delta", done: "response.audio.done", transcript: "response.audio_transcript.done" }
      : { delta: "response.output_audio.delta", done: "response.output_audio.done", transcript: "response.output_audio_transcript.done" }
    this.send({ type: "response.created", response: { id: responseId, status: "in_progress" } })
    if (reply.transcript !== undefined) {
      this.send({ type: "response.output_audio_transcript.delta", response_id: responseId, item_id: itemId, delta: reply.transcript.slice(0, 3) })
    }
    for (const chunk of reply.audio) {
      this.send({ type: names.delta, event_id: `ev_${n}`, response_id: responseId, item_id: itemId, output_index: 0, content_index: 0, delta: chunk.toString("base64") })
    }
    if (reply.hold) return { responseId, itemId }
    this.send({ type: names.done, response_id: responseId, item_id: itemId })
    if (reply.transcript !== undefined) {
      this.send({ type: names.transcript, response_id: responseId, item_id: itemId, transcript: reply.transcript })
    }
    this.send({ type: "response.done", response: { id: responseId, status: "completed" } })
    return { responseId, itemId }
  }

  /**
   * Streams `text` as a text-only response (output_modalities ["text"]) in small deltas;
   * `hold` stops before its end (the response stays active).
   */
  replyText(text: string, options: { readonly hold?: boolean } = {}): { readonly responseId: string; readonly itemId: string } {
    const n = ++this.responses
    const responseId = `resp_${this.id}_${n}`
    const itemId = `item_${this.id}_${n}`
    this.send({ type: "response.created", response: { id: responseId, status: "in_progress" } })
    for (const delta of text.match(/.{1,6}/gs) ?? []) {
      this.send({ type: "response.output_text.delta", response_id: responseId, item_id: itemId, output_index: 0, content_index: 0, delta })
    }
    if (options.hold) return { responseId, itemId }
    this.send({ type: "response.output_text.done", response_id: responseId, item_id: itemId, output_index: 0, content_index: 0, text })
    this.send({ type: "response.done", response: { id: responseId, status: "completed" } })
    return { responseId, itemId }
  }

  /** Asks the service to run a tool, as the model does. */
  callTool(name: string, args: unknown, callId = `call_${this.id}_${name}`): void {
    const responseId = `resp_${this.id}_tool_${callId}`
    this.send({ type: "response.created", response: { id: responseId } })
    this.send({ type: "response.function_call_arguments.done", response_id: responseId, call_id: callId, name, arguments: JSON.stringify(args) })
    this.send({ type: "response.done", response: { id: responseId, status: "completed" } })
  }

  /**
   * Resolves once the service has read everything sent before: a WebSocket peer answers a
   * ping after the frames ahead of it, and the service handles each frame as it reads it.
   */
  roundTrip(): Promise<void> {
    return pingRoundTrip(this.ws, `a round trip to the service on upstream connection #${this.id}`)
  }

  /**
   * Resolves once the service has spoken on this session (its `session.update`). The upstream
   * is opened and spoken to while the stream token is spent, so this does not mean the call is
   * held (HeldCalls.untilHeld): until then what the model says is held back from the call.
   */
  spokenTo(timeoutMs = 10_000): Promise<void> {
    return pollUntil(
      `the service's session.update on upstream connection #${this.id}`,
      () => this.received.length > 0,
      timeoutMs
    ).then(() => undefined)
  }

  /** The socket fails under the service (as a network drop would). */
  drop(): void {
    this.ws.terminate()
  }
}

export type ResponseScript = (connection: FakeRealtimeConnection, event: any) => void

/**
 * A local stand-in for the OpenAI Realtime API (GA protocol) at `${url}/realtime`: acks
 * `session.update`, answers each `response.create` through `onResponseCreate` (default:
 * one short audio reply), and records everything it is sent. Tests drive the rest
 * (speech_started, tool calls, transcripts, drops) through the connection objects.
 */
export class FakeOpenAIRealtime {
  readonly connections: Array<FakeRealtimeConnection> = []
  /** Connection attempts seen so far (upgrade requests, whatever became of them). */
  attempts = 0
  /** Refuse the next N connection attempts (HTTP 503 on the upgrade). */
  refuseNext = 0
  /** Upgrades waiting for `resumeAccepts` (a slow upstream, for as long as a test needs). */
  private held: Array<() => void> | undefined = undefined
  onResponseCreate: ResponseScript = (connection) => {
    connection.reply({ audio: [Buffer.alloc(160, 0x7f)], transcript: "Hello, how can I help?" })
  }

  constructor(readonly url: string) {}

  /** Resolves once `probe` gives a value (polled), or rejects naming `what` after `timeoutMs`. */
  waitFor<A>(what: string, probe: () => A | undefined | false, timeoutMs = 10_000): Promise<A> {
    return pollUntil(what, probe, timeoutMs)
  }

  connection(index: number, timeoutMs?: number): Promise<FakeRealtimeConnection> {
    return this.waitFor(`upstream connection #${index}`, () => this.connections[index], timeoutMs)
  }

  /** Holds every upgrade from now on, until `resumeAccepts`. */
  pauseAccepts(): void {
    this.held ??= []
  }

  /** Accepts the upgrades held so far, and later ones at once. */
  resumeAccepts(): void {
    const held = this.held ?? []
    this.held = undefined
    for (const accept of held) accept()
  }

  /** Accepts now, or later if paused. */
  accept(upgrade: () => void): void {
    if (this.held === undefined) upgrade()
    else this.held.push(upgrade)
  }
}

/**
 * Holds the fake's upgrades for the current scope (a slow upstream); they are accepted when the
 * scope closes whatever the test did. Paused accepts left behind by a failing test kept the
 * service's shutdown waiting on a call that never started, and the suite's hook timed out.
 */
export const pauseAcceptsScoped = (fake: FakeOpenAIRealtime) =>
  Effect.acquireRelease(Effect.sync(() => fake.pauseAccepts()), () => Effect.sync(() => fake.resumeAccepts()))

/** Starts the fake on 127.0.0.1 for the enclosing scope. */
export const makeFakeOpenAIRealtime = Effect.acquireRelease(
  Effect.async<{ fake: FakeOpenAIRealtime; close: () => Promise<void> }>((resume) => {
    const server = createServer((_req, res) => res.writeHead(404).end())
    const wss = new WebSocketServer({ noServer: true })
    const close = closableServer(server, "the fake OpenAI Realtime server")
    let fake: FakeOpenAIRealtime
    server.on("upgrade", (request, socket, head) => {
      fake.attempts++
      if (!request.url?.startsWith("/v1/realtime") || fake.refuseNext > 0) {
        if (fake.refuseNext > 0) fake.refuseNext--
        socket.end("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n")
        return
      }
      const accept = () => wss.handleUpgrade(request, socket, head, (ws) => {
        const connection = new FakeRealtimeConnection(fake.connections.length, request.url!, request.headers, ws)
        fake.connections.push(connection)
        ws.on("message", (data) => {
          const event = JSON.parse(data.toString())
          connection.received.push(event)
          if (event.type === "session.update") connection.send({ type: "session.updated", session: event.session })
          if (event.type === "response.create") fake.onResponseCreate(connection, event)
        })
        connection.send({ type: "session.created", session: { id: `sess_${connection.id}` } })
      })
      fake.accept(accept)
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      fake = new FakeOpenAIRealtime(`http://127.0.0.1:${port}/v1`)
      // Held upgrades and live sessions are destroyed with the server's sockets.
      resume(Effect.succeed({ fake, close }))
    })
  }),
  ({ close }) => Effect.promise(close)
).pipe(Effect.map(({ fake }) => fake))

export class FakeOpenAI extends Context.Tag("test/FakeOpenAI")<FakeOpenAI, FakeOpenAIRealtime>() {}

/** Provides the fake, and builds a layer (e.g. the test server) that needs its URL. */
export const withFakeOpenAI = <A, E, R>(build: (fake: FakeOpenAIRealtime) => Layer.Layer<A, E, R>) =>
  Layer.unwrapScoped(
    Effect.map(makeFakeOpenAIRealtime, (fake) => Layer.merge(build(fake), Layer.succeed(FakeOpenAI, fake)))
  )
