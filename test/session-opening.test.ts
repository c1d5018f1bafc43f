import { describe, expect, it } from "vitest"
import { SessionOpening } from "../src/Media/SessionOpening.js"
import { type AgentSettings, sessionPlan } from "../src/Media/SessionPlan.js"

/**
 * What each upstream session of a call is told, and what a live call keeps of it (issue 11:
 * memory per call): the messages are written when a session opens, not kept as text for the
 * call's length.
 */
const settings: AgentSettings = {
  model: "gpt-realtime",
  voice: "verse",
  instructions: "You are the phone assistant for Acme.",
  greeting: "Hello from Acme",
  systemPromptKey: null
}
const tools = [{ name: "lookup_order", description: "Finds an order", parameters: { type: "object" } }]

const opened = (opening: SessionOpening, transcript: Parameters<SessionOpening["open"]>[1] = []) => {
  const sent: Array<Record<string, any>> = []
  const greeted = opening.open((message) => sent.push(JSON.parse(message)), transcript)
  return { greeted, sent }
}

describe("a call's session opening", () => {
  it("keeps no session.update or greeting text between sessions", () => {
    const plan = sessionPlan(settings, tools, "text")
    const kept = Object.values(plan).filter((value) => typeof value === "string")
    expect(kept.filter((text) => text.includes("session.update") || text.includes("response.create"))).toEqual([])
  })

  it("tells the first session the settings, the tools and the greeting; a replacement the injected messages and the transcript", () => {
    const opening = new SessionOpening(sessionPlan(settings, tools, "text"))
    const first = opened(opening)
    expect(first.greeted).toBe(true)
    expect(first.sent.map((m) => m.type)).toEqual(["session.update", "response.create"])
    expect(first.sent[0]!.session).toMatchObject({
      model: "gpt-realtime",
      instructions: "You are the phone assistant for Acme.",
      output_modalities: ["text"],
      audio: { output: { voice: "verse" } },
      tools: [{ type: "function", name: "lookup_order", description: "Finds an order", parameters: { type: "object" } }]
    })
    expect(JSON.stringify(first.sent[1])).toContain("Hello from Acme")

    opening.remember("{\"type\":\"conversation.item.create\",\"note\":\"injected\"}")
    const second = opened(opening, [{ role: "user", content: "Where is my order?", timestamp: new Date(0) }])
    expect(second.greeted).toBe(false)
    expect(second.sent.map((m) => m.type)).toEqual(["session.update", "conversation.item.create", "conversation.item.create"])
    expect(second.sent[0]!.session.output_modalities).toEqual(["text"])
  })

  it("opens sessions with the model speaking once the call's own voice failed", () => {
    const opening = new SessionOpening(sessionPlan(settings, tools, "text"))
    opened(opening)
    expect(JSON.parse(opening.speakWithAudio()).session.output_modalities).toEqual(["audio"])
    expect(opened(opening).sent[0]!.session.output_modalities).toEqual(["audio"])
  })
  it("sends each call of an agent the session.update written for it, whatever the calls before it were told", () => {
    const sessionOf = (plan: ReturnType<typeof sessionPlan>) => JSON.parse(plan.sessionUpdate).session
    const tenantTools = [...tools]
    const variants: Array<[AgentSettings, "audio" | "text"]> = [
      [settings, "text"],
      [settings, "audio"],
      [{ ...settings, voice: "alloy" }, "text"],
      [{ ...settings, instructions: `${settings.instructions} Speak slowly.` }, "text"],
      [{ ...settings, model: "gpt-realtime-mini" }, "text"],
      [{ ...settings }, "text"]
    ]
    // Twice over, as later calls of the same agents: each gets its own settings back.
    for (const round of [1, 2]) {
      for (const [made, output] of variants) {
        const session = sessionOf(sessionPlan(made, tenantTools, output))
        expect(session, `round ${round}`).toMatchObject({
          model: made.model,
          instructions: made.instructions,
          output_modalities: [output],
          audio: { output: { voice: made.voice } }
        })
        expect(session.tools.map((tool: { name: string }) => tool.name)).toEqual(["lookup_order"])
      }
    }
    // Another tenant's tools (another array) are its own, even with the same settings.
    const otherTools = [{ name: "book_table", description: "Books a table", parameters: { type: "object" } }]
    expect(sessionOf(sessionPlan(settings, otherTools, "text")).tools.map((tool: { name: string }) => tool.name)).toEqual(["book_table"])
    expect(sessionPlan(settings, tenantTools, "text").sessionUpdate).toBe(sessionPlan({ ...settings }, tenantTools, "text").sessionUpdate)
  })
})
