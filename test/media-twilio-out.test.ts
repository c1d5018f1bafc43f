import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import type { TwilioStart } from "../src/Media/TwilioEvents.js"
import { type TwilioHandler, TwilioSocket } from "../src/Media/TwilioSocket.js"
import { until, wsPairs } from "./support/WsPairs.js"

/** What a TwilioSocket's handler was told, in order. */
class Told implements TwilioHandler {
  readonly events: Array<string> = []
  media(bytes: Buffer, start: number, end: number) {
    this.events.push(`media ${bytes.toString("latin1", start, end)}`)
  }
  mark(name: string) {
    this.events.push(`mark ${name}`)
  }
  start(event: TwilioStart) {
    this.events.push(`start ${event.start.streamSid}`)
  }
  dtmf(digit: string) {
    this.events.push(`dtmf ${digit}`)
  }
  stop() {
    this.events.push("stop")
  }
  closed(code: number) {
    this.events.push(`closed ${code}`)
  }
}

const pairs = wsPairs()
beforeAll(pairs.start)
afterAll(pairs.stop)

/** A client (the Twilio side) and our TwilioSocket on the server's end of it. */
const pair = async (streamSid: string) => {
  const received: Array<string> = []
  const { client, request, ws } = await pairs.connect((client) =>
    client.on("message", (data: Buffer, isBinary) => received.push(isBinary ? "binary" : data.toString("utf8"))))
  const told = new Told()
  const twilio = new TwilioSocket(ws, request.socket, told)
  twilio.setStreamSid(streamSid)
  return { client, received, told, twilio }
}

const payload = Buffer.from(Array.from({ length: 160 }, (_, i) => (i * 37) & 0xff)).toString("base64")

describe("TwilioSocket (frames to and from Twilio, read by ws's own parser)", () => {
  for (const streamSid of ["MZ0123456789abcdef0123456789abcdef", "MZ \"quoted\" \\ back é 😀"]) {
    it(`writes media, mark and clear byte for byte as JSON would (stream SID ${JSON.stringify(streamSid)})`, async () => {
      const { client, received, twilio } = await pair(streamSid)
      const bytes = Buffer.from(`xx${payload}yy`, "latin1")
      twilio.sendMedia(bytes, 2, 2 + payload.length)
      twilio.sendMedia(bytes, 2, 2 + payload.length, "7")
      twilio.sendMark("8")
      twilio.sendClear()
      const expected = [
        { event: "media", streamSid, media: { payload } },
        { event: "media", streamSid, media: { payload } },
        { event: "mark", streamSid, mark: { name: "7" } },
        { event: "mark", streamSid, mark: { name: "8" } },
        { event: "clear", streamSid }
      ].map((message) => JSON.stringify(message))
      await until(() => received.length >= expected.length)
      expect(received).toEqual(expected)
      client.terminate()
    })
  }

  it("each socket's messages reach its own handler (the listeners are shared by every socket)", async () => {
    const one = await pair("MZ1")
    const two = await pair("MZ2")
    const media = (text: string) => JSON.stringify({ event: "media", streamSid: "MZ", media: { payload: text } })
    one.client.send(media("AAAA"))
    two.client.send(media("BBBB"))
    two.client.send(JSON.stringify({ event: "mark", streamSid: "MZ2", mark: { name: "3" } }))
    one.client.send(JSON.stringify({ event: "stop", streamSid: "MZ1" }))
    two.client.close(1000)
    await until(() => one.told.events.length >= 2 && two.told.events.length >= 3)
    expect(one.told.events).toEqual(["media AAAA", "stop"])
    expect(two.told.events).toEqual(["media BBBB", "mark 3", "closed 1000"])
    one.client.terminate()
  })
})
