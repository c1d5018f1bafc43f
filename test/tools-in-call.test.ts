import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { fakeToolServer } from "./support/FakeToolServer.js"
import { FakeOpenAI } from "./support/FakeOpenAIRealtime.js"
import { putTenant } from "./support/FakeTwilioServer.js"
import { frame, MediaSuite, promise, startCall, waitForLog } from "./support/MediaCalls.js"
import { secret } from "./support/WebhookChecks.js"

const SECRET = secret("toolco")
const TOOLCO = { tenantId: "toolco", auth: { authorization: "Bearer toolco-bearer-token-0123456789" } }

layer(MediaSuite({ ALLOW_PRIVATE_OUTBOUND_URLS: "true" }), { excludeTestServices: true })("tenant tools in a call", (it) => {
  it.scoped("the model's get_order is POSTed signed to the tenant's server and its reply goes back upstream; a slow tool is reported", () =>
    Effect.gen(function*() {
      const tools = yield* fakeToolServer(SECRET)
      yield* putTenant("toolco", {
        display_name: "Toolco",
        webhook_secret: SECRET,
        prompts: { orders: "You track orders for {business_name}." },
        system_prompt_key: "orders",
        tools: [
          { name: "get_order", description: "Look up an order", url: tools.url("/get_order"), parameters: { type: "object", properties: { order_id: { type: "string" } } } },
          { name: "slow_tool", description: "Slow", url: tools.url("/slow"), timeout_ms: 150 }
        ]
      })
      tools.on("/get_order", { json: { order: { id: "12345", status: "shipped" } } })
      tools.on("/slow", { delayMs: 1_000 })
      const fake = yield* FakeOpenAI
      fake.onResponseCreate = (connection) => connection.reply({ audio: [frame(1)], transcript: "Hello." })
      const { callSid, client, streamSid, upstream } = yield* startCall("toolco")
      // The upstream socket can be open before the service's first session.update arrives.
      const session = (yield* promise(() => fake.waitFor("session.update", () => upstream.received[0]))).session
      expect(session.instructions).toBe("You track orders for Toolco.")
      expect(session.tools.map((tool: { name: string }) => tool.name)).toContain("get_order")

      upstream.callTool("get_order", { order_id: "12345" }, "call_order")
      const output = yield* promise(() =>
        fake.waitFor("get_order output", () =>
          upstream.eventsOf("conversation.item.create").find((e) => e.item.type === "function_call_output" && e.item.call_id === "call_order"))
      )
      expect(JSON.parse(output.item.output)).toEqual({ order: { id: "12345", status: "shipped" } })
      const sent = tools.requests.find((r) => r.path === "/get_order")!
      expect(sent.verified).toBe(true)
      expect(sent.body).toMatchObject({ order_id: "12345", call_sid: callSid, session_id: streamSid, customer_phone: "+15551230001" })

      upstream.callTool("slow_tool", {}, "call_slow")
      const slow = yield* promise(() =>
        fake.waitFor("slow_tool output", () =>
          upstream.eventsOf("conversation.item.create").find((e) => e.item.type === "function_call_output" && e.item.call_id === "call_slow"))
      )
      expect(JSON.parse(slow.item.output)).toEqual({ ok: false, error: "slow_tool timed out after 150 ms" })

      client.stop()
      const log = yield* waitForLog(callSid, TOOLCO)
      expect(log.system_prompt_key).toBe("orders")
      expect(log.function_calls.map((call: { name: string }) => call.name)).toEqual(["get_order", "slow_tool"])
      expect(log.function_calls[1].result).toEqual({ ok: false, error: "slow_tool timed out after 150 ms" })
    }))
})
