/**
 * The usual starting point for a Twilio <-> OpenAI Realtime bridge (as in the public
 * "speech assistant" demos), kept for comparison: a `ws` server that JSON.parses every
 * frame, re-serialises it and forwards it. No auth, no records, no marks, no barge-in,
 * no batching. Caller audio that arrives before the upstream is open is queued (the
 * demos drop it; queueing keeps the loss column comparable).
 *
 *   PORT=... UPSTREAM_URL=ws://127.0.0.1:.../v1/realtime?model=gpt-realtime tsx bench/baseline-relay.ts
 */
import { createServer } from "node:http"
import { WebSocket, WebSocketServer } from "ws"

const port = Number(process.env.PORT ?? 6060)
const upstreamUrl = process.env.UPSTREAM_URL ?? "ws://127.0.0.1:6061/v1/realtime?model=gpt-realtime"

// The incoming-call webhook answered with static TwiML (no signature, tenant or token): what
// bench/setup.ts compares the service's call set-up with.
const twiml = `<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="ws://127.0.0.1:${port}/media-stream"/></Connect></Response>`
const http = createServer((request, response) => {
  request.resume()
  request.on("end", () => response.writeHead(200, { "content-type": "text/xml" }).end(twiml))
})
const server = new WebSocketServer({ server: http })
http.listen(port, "127.0.0.1", () => console.log(`baseline relay on ${port}`))

server.on("connection", (twilio) => {
  let streamSid: string | null = null
  const early: Array<string> = []
  const openai = new WebSocket(upstreamUrl, { headers: { Authorization: "Bearer sk-bench" } })

  openai.on("open", () => {
    openai.send(JSON.stringify({
      type: "session.update",
      session: {
        type: "realtime",
        instructions: "You are a helpful assistant.",
        audio: {
          input: { format: { type: "audio/pcmu" }, turn_detection: { type: "server_vad" } },
          output: { format: { type: "audio/pcmu" }, voice: "alloy" }
        }
      }
    }))
    for (const message of early.splice(0)) openai.send(message)
  })

  openai.on("message", (data) => {
    const event = JSON.parse(data.toString())
    if ((event.type === "response.output_audio.delta" || event.type === "response.audio.delta") && streamSid !== null) {
      twilio.send(JSON.stringify({ event: "media", streamSid, media: { payload: event.delta } }))
    }
  })

  twilio.on("message", (data) => {
    const message = JSON.parse(data.toString())
    switch (message.event) {
      case "start":
        streamSid = message.start.streamSid
        break
      case "media": {
        const append = JSON.stringify({ type: "input_audio_buffer.append", audio: message.media.payload })
        if (openai.readyState === WebSocket.OPEN) openai.send(append)
        else early.push(append)
        break
      }
      case "stop":
        openai.close()
        break
    }
  })

  twilio.on("close", () => openai.close())
  twilio.on("error", () => {})
  openai.on("error", () => twilio.close())
})

// Exit normally on SIGTERM so `--cpu-prof` can write its profile.
process.on("SIGTERM", () => process.exit(0))
