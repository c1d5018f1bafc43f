import { Effect } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { closableServer } from "./Bounded.js"

/** One `POST /v1/responses` the fake received, parsed. */
export interface ResponsesRequest {
  readonly headers: Readonly<Record<string, string>>
  readonly body: any
}

/** How the fake answers the next request: the JSON the model "wrote", or an HTTP error. */
export type ResponsesAnswer =
  | { readonly _tag: "json"; readonly value: unknown }
  | { readonly _tag: "text"; readonly text: string }
  | { readonly _tag: "error"; readonly status: number }
  /** `then`, after `ms` (a slow model). */
  | { readonly _tag: "delay"; readonly ms: number; readonly then: ResponsesAnswer }

export interface FakeOpenAIResponses {
  /** The OPENAI_BASE_URL to give the service (ends in /v1). */
  readonly baseUrl: string
  readonly requests: Array<ResponsesRequest>
  /** Answers for the next requests, in turn; after them, `fallback`. */
  readonly script: (answers: ReadonlyArray<ResponsesAnswer>) => void
  /** What every unscripted request gets (default: a valid analysis). */
  readonly setFallback: (answer: ResponsesAnswer) => void
  readonly close: () => Promise<void>
}

/** A valid analysis as the structured output schema describes it. */
export const analysisAnswer = (overrides: Record<string, unknown> = {}): ResponsesAnswer => ({
  _tag: "json",
  value: {
    summary: "Caller asked where order ORD-77 is; the agent said it shipped yesterday.",
    sentiment: "positive",
    primary_intent: "order_status",
    risk_level: "low",
    evaluation: { score: 0.86, tags: ["resolved", "polite"], notes: "Answered the question directly." },
    ...overrides
  }
})

/** The Responses API object (https://platform.openai.com/docs/api-reference/responses/object). */
const responseObject = (model: string, text: string) => ({
  id: `resp_${Math.random().toString(16).slice(2)}`,
  object: "response",
  created_at: Math.floor(Date.now() / 1000),
  status: "completed",
  error: null,
  incomplete_details: null,
  instructions: null,
  model,
  output: [{
    type: "message",
    id: `msg_${Math.random().toString(16).slice(2)}`,
    status: "completed",
    role: "assistant",
    content: [{ type: "output_text", text, annotations: [] }]
  }],
  output_text: text,
  parallel_tool_calls: true,
  temperature: 1,
  tool_choice: "auto",
  tools: [],
  top_p: 1,
  usage: { input_tokens: 120, output_tokens: 60, total_tokens: 180 }
})

/** A local stand-in for the OpenAI Responses API on 127.0.0.1 (POST /v1/responses only). */
export const startFakeOpenAIResponses = (): Promise<FakeOpenAIResponses> =>
  new Promise((resolve) => {
    const requests: Array<ResponsesRequest> = []
    let queue: Array<ResponsesAnswer> = []
    let fallback: ResponsesAnswer = analysisAnswer()
    const server = http.createServer((req, res) => {
      let raw = ""
      req.setEncoding("utf8")
      req.on("data", (chunk) => (raw += chunk))
      req.on("end", () => {
        if (req.method !== "POST" || req.url !== "/v1/responses") {
          res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "not found" } }))
          return
        }
        let body: any = undefined
        try {
          body = JSON.parse(raw)
        } catch {
          res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "bad json" } }))
          return
        }
        requests.push({ headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])), body })
        const respond = (answer: ResponsesAnswer): void => {
          if (answer._tag === "delay") return void setTimeout(() => respond(answer.then), answer.ms)
          if (answer._tag === "error") {
            res.writeHead(answer.status, { "content-type": "application/json" })
              .end(JSON.stringify({ error: { message: `scripted ${answer.status}`, type: "server_error", code: null } }))
            return
          }
          const text = answer._tag === "json" ? JSON.stringify(answer.value) : answer.text
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(responseObject(String(body?.model), text)))
        }
        respond(queue.shift() ?? fallback)
      })
    })
    const close = closableServer(server, "the fake OpenAI Responses server")
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as AddressInfo).port
      resolve({
        baseUrl: `http://127.0.0.1:${port}/v1`,
        requests,
        script: (answers) => void (queue = [...answers]),
        setFallback: (answer) => void (fallback = answer),
        close
      })
    })
  })

/** The fake for the scope's lifetime. */
export const fakeOpenAIResponses = Effect.acquireRelease(
  Effect.promise(startFakeOpenAIResponses),
  (fake) => Effect.promise(fake.close)
)
