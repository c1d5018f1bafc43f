import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { type Duplex, Writable } from "node:stream"
import { FrameWriter, seal, textFrame } from "../src/Media/FrameWriter.js"
import { ReadBatch } from "../src/Media/ReadBatch.js"
import { until, wsPairs } from "./support/WsPairs.js"

const pairs = wsPairs()
beforeAll(pairs.start)
afterAll(pairs.stop)

/** A client and the server's ws for it, with a ReadBatch on the server's socket. */
const pair = async () => {
  const { client, request, ws } = await pairs.connect()
  const received: Array<string> = []
  ws.on("message", (data: Buffer) => received.push(data.toString()))
  return { client, ws, socket: request.socket, batch: new ReadBatch(request.socket), received }
}

/** A writer whose socket counts its writes (a burst corked into one writev counts once). */
const countingWriter = () => {
  let writes = 0
  const socket = new Writable({
    writev(_entries, done) {
      writes++
      done()
    },
    write(_chunk, _encoding, done) {
      writes++
      done()
    }
  })
  return { writer: new FrameWriter(socket as unknown as Duplex, false), writes: () => writes }
}

/** Client frames (masked) for `messages`, back to back: what one TCP read may bring. */
const clientFrames = (messages: ReadonlyArray<string>) =>
  Buffer.concat(messages.map((message) => {
    const payload = Buffer.from(message)
    const frame = textFrame(payload.length, true)
    frame.set(payload, frame.length - payload.length)
    return seal(frame, payload.length)
  }))

describe("ReadBatch (one read's relayed frames written together)", () => {
  it("relays every frame of a read in order, the peer's writes held until the read is done", async () => {
    const { batch, client, received, socket, ws } = await pair()
    const peer = countingWriter()
    batch.writesTo(peer.writer)
    ws.on("message", (data: Buffer) => peer.writer.text(data))
    socket.emit("data", clientFrames(["one", "two", "three"])) // one TCP read of three frames
    expect(received).toEqual(["one", "two", "three"])
    expect(peer.writes()).toBe(2) // the first at once, the other two corked into one writev
    batch.writesTo(undefined)
    socket.emit("data", clientFrames(["four", "five"])) // not relaying: each written as it comes
    expect(received).toEqual(["one", "two", "three", "four", "five"])
    expect(peer.writes()).toBe(4)
    client.terminate()
  })

  it("a socket that closes with frames still buffered hands them to ws once", async () => {
    const { client, received, socket, ws } = await pair()
    socket.pause() // as ws does when its parser pushes back
    client.send("last")
    await until(() => socket.readableLength > 0)
    expect(socket.readableLength).toBeGreaterThan(0)
    const closed = new Promise((resolve) => ws.once("close", resolve))
    socket.destroy()
    await closed
    expect(received).toEqual(["last"])
    client.terminate()
  })
})
