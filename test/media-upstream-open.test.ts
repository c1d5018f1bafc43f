import * as net from "node:net"
import { Effect, HashMap, Tracer } from "effect"
import { describe, expect, it } from "vitest"
import { CallFibers } from "../src/Media/CallFibers.js"
import { connectRealtime } from "../src/Media/RealtimeSocket.js"
import { closableServer, within } from "./support/Bounded.js"

/** A server that takes the TCP connection and never answers the WebSocket handshake. */
const silentServer = async () => {
  let connected: () => void = () => {}
  let closed: () => void = () => {}
  const reached = new Promise<void>((resolve) => (connected = resolve))
  const gone = new Promise<void>((resolve) => (closed = resolve))
  const server = net.createServer((socket) => {
    connected()
    socket.on("close", () => closed())
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as net.AddressInfo).port
  return { url: `ws://127.0.0.1:${port}/v1/realtime?model=gpt-realtime`, reached, gone, close: closableServer(server, "silent server") }
}

describe("a call's upstream opened as plain code (untraced)", () => {
  it("forks no fiber, and a call that ends while the upstream is still opening terminates the opening", async () => {
    const server = await silentServer()
    try {
      let forks = 0
      const fibers = new CallFibers<never>(
        (effect) => {
          forks++
          return Effect.runFork(effect)
        },
        Tracer.externalSpan({ traceId: "0".repeat(32), spanId: "0".repeat(16) }),
        HashMap.empty(),
        { tenantId: "t", streamSid: "MZ0", callSid: null },
        false
      )
      const outcomes: Array<unknown> = []
      const cancel = connectRealtime(server.url, "sk-test", 30_000, (result) => outcomes.push(result))
      fibers.track(cancel)
      await within(10_000, "the opening reaches the server", server.reached)

      // The call's scope closes (its first finalizer): the opening is cancelled with its fibers.
      await Effect.runPromise(fibers.interruptAll())
      await within(10_000, "the opening's socket closed when the call ended", server.gone)
      expect(outcomes).toEqual([]) // cancelled: the bridge hears nothing of it
      expect(forks).toBe(0)

      // Plain work started after the end is cancelled at once, as `run` starts nothing then.
      let cancelled = 0
      fibers.track(() => cancelled++)
      expect(cancelled).toBe(1)
      expect(fibers.ended).toBe(true)
    } finally {
      await server.close()
    }
  })

  // The deadline is our own timer now (ws's handshakeTimeout left its spent Timeout on the socket
  // for the call's length): an unanswered handshake still fails, once, with ws's message.
  it("an opening the server never answers fails at its deadline, once", async () => {
    const server = await silentServer()
    try {
      const outcomes: Array<unknown> = []
      const failed = new Promise<void>((resolve) => {
        connectRealtime(server.url, "sk-test", 200, (result) => {
          outcomes.push(result)
          resolve()
        })
      })
      await within(10_000, "the opening fails", failed)
      expect(outcomes).toHaveLength(1)
      expect(outcomes[0]).toMatchObject({ _tag: "UpstreamUnavailable", message: "Cannot reach OpenAI Realtime: Opening handshake has timed out" })
    } finally {
      await server.close()
    }
  })
})
