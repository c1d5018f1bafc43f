import * as HttpServer from "@effect/platform/HttpServer"
import { Effect } from "effect"
import { connect } from "node:net"

export interface RawExchange {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: any
  readonly text: string
  readonly elapsedMs: number
}

/**
 * Bytes written to the test server over a plain socket, for requests an HTTP client will not
 * send (lying lengths, stalled bodies, odd content types). `chunks` are written `gapMs` apart;
 * the answer is whatever the server writes before it closes or `timeoutMs` passes (status 0).
 */
export const rawExchange = (
  head: string,
  chunks: ReadonlyArray<string | Buffer> = [],
  options: { readonly gapMs?: number; readonly timeoutMs?: number } = {}
) =>
  Effect.gen(function*() {
    const server = yield* HttpServer.HttpServer
    const port = server.address._tag === "TcpAddress" ? server.address.port : 0
    return yield* Effect.async<RawExchange>((resume) => {
      const started = Date.now()
      const socket = connect(port, "127.0.0.1")
      const received: Array<Buffer> = []
      let done = false
      const timers: Array<NodeJS.Timeout> = []
      const finish = () => {
        if (done) return
        done = true
        timers.forEach(clearTimeout)
        socket.destroy()
        resume(Effect.succeed(parse(Buffer.concat(received).toString("utf8"), Date.now() - started)))
      }
      socket.on("data", (data) => {
        received.push(data)
        // One response is all we wait for: stop once its body is complete.
        if (complete(Buffer.concat(received).toString("utf8"))) finish()
      })
      socket.on("close", finish)
      socket.on("error", finish)
      socket.write(head)
      chunks.forEach((chunk, i) => {
        timers.push(setTimeout(() => socket.writable && socket.write(chunk), (i + 1) * (options.gapMs ?? 0)))
      })
      timers.push(setTimeout(finish, options.timeoutMs ?? 5_000))
      return Effect.sync(() => {
        timers.forEach(clearTimeout)
        socket.destroy()
      })
    })
  })

const complete = (text: string): boolean => {
  const end = text.indexOf("\r\n\r\n")
  if (end === -1) return false
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end))
  return length !== null && Buffer.byteLength(text.slice(end + 4)) >= Number(length[1])
}

const parse = (text: string, elapsedMs: number): RawExchange => {
  const end = text.indexOf("\r\n\r\n")
  const headLines = (end === -1 ? text : text.slice(0, end)).split("\r\n")
  const status = Number(/^HTTP\/1\.\d (\d{3})/.exec(headLines[0] ?? "")?.[1] ?? 0)
  const headers: Record<string, string> = {}
  for (const line of headLines.slice(1)) {
    const colon = line.indexOf(":")
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
  }
  const bodyText = end === -1 ? "" : text.slice(end + 4)
  let body: unknown = undefined
  try {
    body = bodyText === "" ? undefined : JSON.parse(bodyText)
  } catch {
    body = undefined
  }
  return { status, headers, body, text: bodyText, elapsedMs }
}

/** A request head for `rawExchange`. */
export const requestHead = (method: string, path: string, headers: Record<string, string | number>) =>
  `${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n` +
  Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("") + "\r\n"
