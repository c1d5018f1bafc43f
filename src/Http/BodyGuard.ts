import type * as HttpServerError from "@effect/platform/HttpServerError"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import { Effect, Either } from "effect"
import type { IncomingMessage } from "node:http"
import { isTwilioWebhook } from "./Audience.js"
import { unstorableForm, unstorableJson, unstorableUrl } from "./TextGuard.js"

export interface BodyLimits {
  readonly maxBytes: number
  readonly readTimeoutMs: number
  readonly maxJsonDepth: number
}

/** Why a body is refused before any handler sees it. */
export interface BodyRejection {
  readonly status: 400 | 408 | 413 | 415
  readonly message: string
}

/** The content types our operations read (JSON everywhere; Twilio posts forms; one text body). */
const ACCEPTED: ReadonlySet<string | undefined> = new Set(["application/json", "application/x-www-form-urlencoded", "text/plain"])

const mediaTypeOf = (header: string | undefined): string | undefined =>
  header === undefined ? undefined : header.split(";")[0]!.trim().toLowerCase()

const isJsonType = (mediaType: string | undefined) =>
  mediaType === undefined || mediaType === "" || mediaType === "application/json" || mediaType.endsWith("+json")

const acceptedType = (mediaType: string | undefined) =>
  isJsonType(mediaType) || ACCEPTED.has(mediaType)

/**
 * The deepest `[`/`{` nesting of a JSON text, found in one pass without recursion, so a
 * 10,000-deep document is refused before JSON.parse or a schema walks it recursively.
 */
export const jsonDepth = (text: string): number => {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++ // backslash: skip the escaped character
      else if (c === 34) inString = false
    } else if (c === 34) inString = true
    else if (c === 91 || c === 123) {
      depth++
      if (depth > deepest) deepest = depth
    } else if (c === 93 || c === 125) depth--
  }
  return deepest
}

export type BodyRead =
  | { readonly _tag: "Body"; readonly text: string }
  | { readonly _tag: "TooLarge" }
  | { readonly _tag: "Timeout" }
  | { readonly _tag: "Failed" }

/** Bytes of a refused body read and dropped so that a client still sending reads its answer. */
export const DISCARDABLE_BODY_BYTES = 16 * 1024 * 1024

/**
 * A body refused as too large while it still arrives (chunked: no declared length for node to
 * discard) is read on and dropped, up to DISCARDABLE_BODY_BYTES in all, on a connection kept
 * open: closing a socket with unread data resets it, and a client still sending can lose its
 * 413 in the reset. Past that bound the socket is cut.
 */
const discardRest = (message: IncomingMessage, alreadyRead: number) => {
  let bytes = alreadyRead
  const onData = (chunk: Buffer) => {
    bytes += chunk.length
    if (bytes <= DISCARDABLE_BODY_BYTES) return
    message.off("data", onData)
    message.socket.destroy()
  }
  message.on("data", onData)
}

/**
 * Reads the body straight off the socket, bounded in bytes and time, and hands `done` the
 * verdict once. Unlike the platform's reader, it leaves the socket open when it gives up, so
 * the 413/408 can still be written. Returns what stops the read early (listeners, timer).
 */
export const readBodyThen = (message: IncomingMessage, maxBytes: number, timeoutMs: number, done: (read: BodyRead) => void) => {
  const chunks: Array<Buffer> = []
  let bytes = 0
  let over = false
  const cleanup = () => {
    clearTimeout(timer)
    message.off("data", onData)
    message.off("end", onEnd)
    message.off("error", onFailed)
    message.off("aborted", onFailed)
  }
  const finish = (read: BodyRead) => {
    if (over) return
    over = true
    cleanup()
    if (read._tag === "TooLarge") discardRest(message, bytes)
    else if (read._tag !== "Body") message.pause()
    done(read)
  }
  const onData = (chunk: Buffer) => {
    bytes += chunk.length
    if (bytes > maxBytes) finish({ _tag: "TooLarge" })
    else chunks.push(chunk)
  }
  const onEnd = () => finish({ _tag: "Body", text: chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8") })
  const onFailed = () => finish({ _tag: "Failed" })
  const timer = setTimeout(() => finish({ _tag: "Timeout" }), timeoutMs)
  message.on("data", onData)
  message.once("end", onEnd)
  message.once("error", onFailed)
  message.once("aborted", onFailed)
  return cleanup
}

/**
 * Bodies read by a path served off node's own event (src/Twilio/PlainWebhook.ts) that then left
 * the request to the Effect edge: the edge judges that read, with the same bounds, instead of
 * waiting on a stream already consumed.
 */
const readBefore = new WeakMap<IncomingMessage, BodyRead>()

/** Records `read` as `message`'s body for the edge's guard (above). */
export const rememberBodyRead = (message: IncomingMessage, read: BodyRead) => {
  readBefore.set(message, read)
}

const readBody = (message: IncomingMessage, maxBytes: number, timeoutMs: number) =>
  Effect.async<BodyRead>((resume) => {
    const known = readBefore.get(message)
    if (known !== undefined) return resume(Effect.succeed(known))
    return Effect.sync(readBodyThen(message, maxBytes, timeoutMs, (read) => resume(Effect.succeed(read))))
  })

/**
 * A copy of `request` whose body is `text`. The platform's request caches its body text in
 * `textEffect` (JSON, form and text decoding all read it); seeding that cache is how the
 * handler sees the body we already read. hostile-input.test.ts fails if that ever changes.
 */
export const withBodyText = (
  request: HttpServerRequest.HttpServerRequest,
  text: Effect.Effect<string, HttpServerError.RequestError>
): HttpServerRequest.HttpServerRequest => Object.assign(request.modify({}), { textEffect: text })

/** The same request at another url, keeping the body already read (see `withBodyText`). */
export const modifyKeepingBody = (request: HttpServerRequest.HttpServerRequest, url: string) => {
  const cached: unknown = Reflect.get(request, "textEffect")
  const next = request.modify({ url })
  return Effect.isEffect(cached) ? Object.assign(next, { textEffect: cached }) : next
}

/** Undecodable JSON is left for the platform's decoder to refuse (400, as before). */
const parseOrUndefined = (text: string): unknown => {
  try {
    return text === "" ? undefined : JSON.parse(text)
  } catch {
    return undefined
  }
}

const reject = (status: BodyRejection["status"], message: string): Either.Either<HttpServerRequest.HttpServerRequest, BodyRejection> =>
  Either.left({ status, message })

/**
 * Reads a request's body once, bounded in size and time, before routing, and returns the
 * request the handlers should see (its body already read), or why it is refused. Multipart
 * and other types we never read are refused here (the platform would wait on an empty
 * multipart body forever).
 */
export const guardBody = (
  request: HttpServerRequest.HttpServerRequest,
  limits: BodyLimits
): Effect.Effect<Either.Either<HttpServerRequest.HttpServerRequest, BodyRejection>> => {
  const judged = guardWithoutBody(request)
  return judged === undefined ? readGuarded(request, limits) : Effect.succeed(judged)
}

/**
 * `guardBody`'s verdict when it needs no body (a bad URL; GET, HEAD, OPTIONS), as plain code:
 * most requests are answered here. Undefined when the body must be read (`guardBody`).
 */
export const guardWithoutBody = (
  request: HttpServerRequest.HttpServerRequest
): Either.Either<HttpServerRequest.HttpServerRequest, BodyRejection> | undefined => {
  const badUrl = unstorableUrl(request.url)
  if (badUrl !== undefined) return reject(400, `Invalid request: ${badUrl}`)
  if (request.method === "GET" || request.method === "HEAD" || request.method === "OPTIONS") return Either.right(request)
  return undefined
}

const readGuarded = (
  request: HttpServerRequest.HttpServerRequest,
  limits: BodyLimits
): Effect.Effect<Either.Either<HttpServerRequest.HttpServerRequest, BodyRejection>> =>
  Effect.gen(function*() {
    const mediaType = mediaTypeOf(request.headers["content-type"])
    if (!acceptedType(mediaType)) {
      return reject(415, `Unsupported content type ${mediaType}: send application/json`)
    }
    const declared = Number(request.headers["content-length"] ?? "0")
    if (Number.isFinite(declared) && declared > limits.maxBytes) {
      return reject(413, `Request body larger than ${limits.maxBytes} bytes`)
    }
    const read = yield* readBody(NodeHttpServerRequest.toIncomingMessage(request), limits.maxBytes, limits.readTimeoutMs)
    switch (read._tag) {
      case "Timeout":
        return reject(408, "Request body not received in time")
      case "TooLarge":
        return reject(413, `Request body larger than ${limits.maxBytes} bytes`)
      case "Failed":
        return reject(400, "Invalid request: the body could not be read")
    }
    if (isJsonType(mediaType) && jsonDepth(read.text) > limits.maxJsonDepth) {
      return reject(400, `Invalid request: JSON nested deeper than ${limits.maxJsonDepth} levels`)
    }
    const badText = isJsonType(mediaType) ? unstorableJson(parseOrUndefined(read.text)) :
      mediaType === "application/x-www-form-urlencoded" ? (isTwilioWebhook(request.url) ? undefined : unstorableForm(read.text)) :
      unstorableJson(read.text)
    if (badText !== undefined) return reject(400, `Invalid request: ${badText}`)
    return Either.right(withBodyText(request, Effect.succeed(read.text)))
  })
