import * as Cookies from "@effect/platform/Cookies"
import type * as Headers from "@effect/platform/Headers"
import * as HttpServerError from "@effect/platform/HttpServerError"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import { Cause, Chunk, Effect, Stream } from "effect"
import type { ServerResponse } from "node:http"
import { Readable } from "node:stream"
import { pipeline } from "node:stream/promises"

/** The response's headers with its cookies as Set-Cookie lines. */
const headersWithCookies = (response: HttpServerResponse.HttpServerResponse): Headers.Headers | Record<string, string | Array<string>> => {
  if (Cookies.isEmpty(response.cookies)) return response.headers
  const toSet = Cookies.toSetCookieHeaders(response.cookies)
  const existing = response.headers["set-cookie"]
  if (existing !== undefined) toSet.push(existing)
  return { ...response.headers, "set-cookie": toSet }
}

/** A response that failed while being written: ended as it stands, the failure kept. */
const endOnFailure = (nodeResponse: ServerResponse, original: HttpServerResponse.HttpServerResponse) =>
  <E>(originalCause: Cause.Cause<E>) =>
    Effect.flatMap(HttpServerError.causeResponse(originalCause), ([response, cause]) => {
      const headersSent = nodeResponse.headersSent
      if (!headersSent) nodeResponse.writeHead(response.status)
      if (!nodeResponse.writableEnded) nodeResponse.end()
      return Effect.failCause(headersSent ? Cause.sequential(originalCause, Cause.die(original)) : cause)
    })

/**
 * Writes a response whose body is already in memory (none, bytes; any body for HEAD), or one
 * to a response already ended, as plain code: true when done, false for a body that must be
 * streamed (`writeResponse`). Node owns the bytes from `end` on; nothing waits for the flush.
 */
export const writeInMemory = (nodeResponse: ServerResponse, method: string, response: HttpServerResponse.HttpServerResponse): boolean => {
  if (nodeResponse.writableEnded) return true
  const body = response.body
  if (method !== "HEAD" && body._tag !== "Empty" && body._tag !== "Uint8Array") return false
  nodeResponse.writeHead(response.status, headersWithCookies(response))
  if (method !== "HEAD" && body._tag === "Uint8Array") nodeResponse.end(body.body)
  else nodeResponse.end()
  return true
}

/**
 * Writes `response` on the request's node response, as @effect/platform-node's server does,
 * except that a body already in memory (none, text, bytes; HEAD) is handed to node with `end`
 * and not awaited until node has flushed it: the bytes are node's from that call on, the
 * request's fiber has nothing left to do with them, and awaiting the callback cost an
 * `Effect.async` and a turn of the event loop per request before the access line.
 * Streams (SSE, live logs, files) are written with backpressure and awaited to their end.
 */
export const writeResponse = (
  request: HttpServerRequest.HttpServerRequest,
  response: HttpServerResponse.HttpServerResponse
): Effect.Effect<void, HttpServerError.ResponseError> => {
  const nodeResponse = NodeHttpServerRequest.toServerResponse(request)
  if (writeInMemory(nodeResponse, request.method, response)) return Effect.void
  const headers = headersWithCookies(response)
  const body = response.body
  switch (body._tag) {
    case "Empty":
    case "Uint8Array":
      return Effect.void // written above
    case "Raw": {
      nodeResponse.writeHead(response.status, headers)
      const raw: unknown = body.body
      if (typeof raw === "object" && raw !== null && "pipe" in raw && typeof raw.pipe === "function") {
        return Effect.tryPromise({
          try: (signal) => pipeline(raw as NodeJS.ReadableStream, nodeResponse, { signal, end: true }),
          catch: (cause) => new HttpServerError.ResponseError({ request, response, reason: "Decode", cause })
        }).pipe(Effect.interruptible, Effect.tapErrorCause(endOnFailure(nodeResponse, response)))
      }
      nodeResponse.end(raw)
      return Effect.void
    }
    case "FormData": {
      return Effect.suspend(() => {
        const web = new Response(body.formData)
        nodeResponse.writeHead(response.status, { ...headers, ...Object.fromEntries(web.headers) })
        return Effect.async<void, HttpServerError.ResponseError>((resume, signal) => {
          Readable.fromWeb(web.body! as import("node:stream/web").ReadableStream, { signal }).pipe(nodeResponse)
            .on("error", (cause) => resume(Effect.fail(new HttpServerError.ResponseError({ request, response, reason: "Decode", cause }))))
            .once("finish", () => resume(Effect.void))
        }).pipe(Effect.interruptible, Effect.tapErrorCause(endOnFailure(nodeResponse, response)))
      })
    }
    case "Stream": {
      nodeResponse.writeHead(response.status, headers)
      const drainLatch = Effect.unsafeMakeLatch()
      nodeResponse.on("drain", () => drainLatch.unsafeOpen())
      return body.stream.pipe(
        Stream.orDie,
        Stream.runForEachChunk((chunk) => {
          const array = Chunk.toReadonlyArray(chunk)
          if (array.length === 0) return Effect.void
          let needDrain = false
          for (let i = 0; i < array.length; i++) {
            const written = nodeResponse.write(array[i])
            if (!written && !needDrain) {
              needDrain = true
              drainLatch.unsafeClose()
            } else if (written && needDrain) {
              needDrain = false
            }
          }
          return needDrain ? drainLatch.await : Effect.void
        }),
        Effect.interruptible,
        Effect.matchCauseEffect({
          onSuccess: () => Effect.sync(() => {
            nodeResponse.end()
          }),
          onFailure: endOnFailure(nodeResponse, response)
        })
      )
    }
  }
}
