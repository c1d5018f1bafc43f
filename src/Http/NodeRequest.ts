import * as Cookies from "@effect/platform/Cookies"
import type * as Headers from "@effect/platform/Headers"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import type { HttpMethod } from "@effect/platform/HttpMethod"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as Socket from "@effect/platform/Socket"
import * as UrlParams from "@effect/platform/UrlParams"
import * as NodeMultipart from "@effect/platform-node/NodeMultipart"
import * as NodeStream from "@effect/platform-node/NodeStream"
import { Effect, Inspectable, Option, type Stream } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"

/**
 * A request of our node server (src/Http/NodeServer.ts): the same shape as @effect/platform-node's
 * request, which that package does not export. The fields other code reads stay as the
 * platform names them: `source` and `response` (NodeHttpServerRequest's toIncomingMessage /
 * toServerResponse) and `textEffect`, the cached body text the body guard seeds (BodyGuard.ts).
 */
export class NodeRequest extends Inspectable.Class implements HttpServerRequest.HttpServerRequest {
  readonly [HttpServerRequest.TypeId]: HttpServerRequest.TypeId = HttpServerRequest.TypeId
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId
  textEffect: Effect.Effect<string, HttpServerError.RequestError> | undefined
  private cachedCookies: Record<string, string> | undefined
  private multipartEffect: HttpServerRequest.HttpServerRequest["multipart"] | undefined
  private headersOverride: Headers.Headers | undefined

  constructor(
    readonly source: IncomingMessage,
    /** Upgrade requests get their response lazily: the socket may become a WebSocket instead. */
    readonly response: ServerResponse | (() => ServerResponse),
    readonly upgradeEffect?: Effect.Effect<Socket.Socket, HttpServerError.RequestError>,
    readonly url: string = source.url!,
    headersOverride?: Headers.Headers,
    private readonly remoteAddressOverride?: string
  ) {
    super()
    this.headersOverride = headersOverride
  }

  private readonly onError = (cause: unknown): HttpServerError.RequestError => new HttpServerError.RequestError({ request: this, reason: "Decode", cause })

  get originalUrl(): string {
    return this.source.url!
  }

  get method(): HttpMethod {
    return this.source.method!.toUpperCase() as HttpMethod
  }

  get headers(): Headers.Headers {
    this.headersOverride ??= this.source.headers as Headers.Headers
    return this.headersOverride
  }

  get remoteAddress(): Option.Option<string> {
    return Option.fromNullable(this.remoteAddressOverride ?? this.source.socket.remoteAddress)
  }

  get cookies(): Record<string, string> {
    this.cachedCookies ??= Cookies.parseHeader(this.headers.cookie ?? "")
    return this.cachedCookies
  }

  get text(): Effect.Effect<string, HttpServerError.RequestError> {
    this.textEffect ??= Effect.runSync(Effect.cached(Effect.flatMap(HttpIncomingMessage.MaxBodySize, (maxBodySize) =>
      NodeStream.toString(() => this.source, { onFailure: this.onError, maxBytes: Option.getOrUndefined(maxBodySize) }))))
    return this.textEffect
  }

  get json(): Effect.Effect<unknown, HttpServerError.RequestError> {
    return Effect.tryMap(this.text, { try: (text) => text === "" ? null : JSON.parse(text) as unknown, catch: this.onError })
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpServerError.RequestError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({ try: () => UrlParams.fromInput(new URLSearchParams(text)), catch: this.onError }))
  }

  get stream(): Stream.Stream<Uint8Array, HttpServerError.RequestError> {
    return NodeStream.fromReadable<HttpServerError.RequestError>(() => this.source, this.onError)
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpServerError.RequestError> {
    return Effect.flatMap(HttpIncomingMessage.MaxBodySize, (maxBodySize) =>
      // The bytes as the platform's request gives them (a Uint8Array: its `buffer` may be a shared pool).
      NodeStream.toUint8Array(() => this.source, {
        onFailure: this.onError,
        maxBytes: Option.getOrUndefined(maxBodySize)
      }) as unknown as Effect.Effect<ArrayBuffer, HttpServerError.RequestError>)
  }

  get multipart(): HttpServerRequest.HttpServerRequest["multipart"] {
    this.multipartEffect ??= Effect.runSync(Effect.cached(NodeMultipart.persisted(this.source, this.source.headers)))
    return this.multipartEffect
  }

  get multipartStream(): HttpServerRequest.HttpServerRequest["multipartStream"] {
    return NodeMultipart.stream(this.source, this.source.headers)
  }

  get upgrade(): Effect.Effect<Socket.Socket, HttpServerError.RequestError> {
    return this.upgradeEffect ?? Effect.fail(new HttpServerError.RequestError({
      request: this,
      reason: "Decode",
      description: "not an upgradeable ServerRequest"
    }))
  }

  modify(options: { readonly url?: string; readonly headers?: Headers.Headers; readonly remoteAddress?: string }): NodeRequest {
    return new NodeRequest(
      this.source,
      this.response,
      this.upgradeEffect,
      options.url ?? this.url,
      options.headers ?? this.headersOverride,
      options.remoteAddress ?? this.remoteAddressOverride
    )
  }

  /** The node response this request is answered on (created now for an upgrade request). */
  get resolvedResponse(): ServerResponse {
    return typeof this.response === "function" ? this.response() : this.response
  }

  override toString(): string {
    return `ServerRequest(${this.method} ${this.url})`
  }

  toJSON(): unknown {
    return HttpIncomingMessage.inspect(this, { _id: "@effect/platform/HttpServerRequest", method: this.method, url: this.originalUrl })
  }
}
