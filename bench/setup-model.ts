import * as http from "node:http"
import { WebSocketServer } from "ws"

/** A valid post-call analysis (the structured output of src/CallAnalysis/Domain.ts's schema). */
const analysis = JSON.stringify({
  summary: "The caller was greeted and hung up.",
  sentiment: "neutral",
  primary_intent: "unknown",
  risk_level: "low",
  evaluation: { score: 0.5, tags: ["short_call"], notes: null }
})

/**
 * `POST /v1/responses` as the Responses API answers it: each call's post-call analysis succeeds
 * on its first attempt, as against a model that answers. (A fake answering 426 here made every
 * call's analysis fail and retry inside the measured window: up to ~2 requests, 4 statements
 * and 2 warning lines more per call than a working model costs; bench/RESULTS.md.)
 */
const answerResponses = (req: http.IncomingMessage, res: http.ServerResponse) => {
  req.resume()
  req.on("end", () => {
    if (req.method !== "POST" || req.url !== "/v1/responses") {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({
      id: "resp_bench",
      object: "response",
      created_at: Math.floor(Date.now() / 1000),
      status: "completed",
      error: null,
      incomplete_details: null,
      model: "bench",
      output: [{ type: "message", id: "msg_bench", status: "completed", role: "assistant", content: [{ type: "output_text", text: analysis, annotations: [] }] }],
      output_text: analysis,
      usage: { input_tokens: 100, output_tokens: 50, total_tokens: 150 }
    }))
  })
}

/**
 * The fake model: greets at once; reports each call's first caller frame (call number in its first
 * bytes); answers the post-call analysis (`POST /v1/responses`) on the same port. `connectDelayMs`
 * holds each WebSocket upgrade that long before answering it, as the TLS handshake and 101 from
 * api.openai.com take (100-400 ms) where loopback takes ~1 ms.
 */
export const startFakeModel = async (port: number, greetOn: string, onFrame: (call: number) => void, connectDelayMs = 0) => {
  const server = http.createServer(answerResponses)
  const wss = new WebSocketServer(connectDelayMs > 0 ? { noServer: true } : { server })
  if (connectDelayMs > 0) {
    server.on("upgrade", (request, socket, head) => {
      setTimeout(() => wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws, request)), connectDelayMs)
    })
  }
  const greeting = Buffer.alloc(160, 0x55).toString("base64")
  wss.on("connection", (ws) => {
    let seen = false
    const greet = () => {
      ws.send(JSON.stringify({ type: "response.created", response: { id: "resp_1", status: "in_progress" } }))
      ws.send(JSON.stringify({ type: "response.output_audio.delta", response_id: "resp_1", item_id: "item_1", output_index: 0, content_index: 0, delta: greeting }))
    }
    ws.on("message", (data) => {
      const event = JSON.parse(data.toString())
      if (event.type === greetOn) greet()
      if (event.type === "input_audio_buffer.append" && !seen) {
        seen = true
        onFrame(Buffer.from(event.audio, "base64").readUInt32BE(0))
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve))
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate()
        wss.close()
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
