import { WebSocketServer } from "ws"

/** The fake model: greets at once; reports each call's first caller frame (call number in its first bytes). */
export const startFakeModel = async (port: number, greetOn: string, onFrame: (call: number) => void) => {
  const wss = new WebSocketServer({ port, host: "127.0.0.1" })
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
  await new Promise((resolve) => wss.once("listening", resolve))
  return { port, close: () => new Promise<void>((resolve) => { for (const c of wss.clients) c.terminate(); wss.close(() => resolve()) }) }
}

