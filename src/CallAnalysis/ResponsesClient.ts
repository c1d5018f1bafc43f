import { Effect } from "effect"
import * as http from "node:http"
import * as https from "node:https"
import { AnalysisFailed } from "./Errors.js"

/** The answer is a few KB (the model's JSON and the echoed request settings); anything past this is refused. */
export const MAX_RESPONSE_BYTES = 1024 * 1024

export interface ResponsesClientOptions {
  /** OPENAI_BASE_URL (ends in /v1): requests go to `${baseUrl}/responses`. */
  readonly baseUrl: string
  readonly apiKey: string
  /** Sent as `OpenAI-Organization` / `OpenAI-Project` when set (the SDK read the same variables). */
  readonly organization: string | undefined
  readonly project: string | undefined
  readonly maxResponseBytes?: number
}

/**
 * The API's error as the `openai` SDK worded it (APIError.makeMessage), so `last_error` and the
 * warnings read as before: `<status> <error.message>`, else the body's text.
 */
const statusMessage = (status: number, body: string) => {
  let parsed: unknown = undefined
  try {
    parsed = JSON.parse(body)
  } catch {
    // Not JSON: the text is the message.
  }
  const error = typeof parsed === "object" && parsed !== null && "error" in parsed ? parsed.error : undefined
  const message = parsed === undefined
    ? body
    : typeof error === "object" && error !== null && "message" in error && error.message
    ? typeof error.message === "string" ? error.message : JSON.stringify(error.message)
    : error
    ? JSON.stringify(error)
    : ""
  return `Responses API answered ${status}: ${message ? `${status} ${message}` : `${status} status code (no body)`}`
}

/**
 * The text the model wrote: the `output_text` parts of the `message` items, joined (what the
 * SDK's `response.output_text` is).
 */
export const outputText = (response: unknown): string | undefined => {
  if (typeof response !== "object" || response === null || !("output" in response) || !Array.isArray(response.output)) {
    return undefined
  }
  let text = ""
  for (const item of response.output as ReadonlyArray<{ type?: unknown; content?: unknown }>) {
    if (item?.type !== "message" || !Array.isArray(item.content)) continue
    for (const part of item.content as ReadonlyArray<{ type?: unknown; text?: unknown }>) {
      if (part?.type === "output_text" && typeof part.text === "string") text += part.text
    }
  }
  return text
}

/**
 * `POST /responses` over node:http(s) with a keep-alive agent: one request, no retries (they are
 * the job's), the body read up to `maxResponseBytes`. The `openai` SDK did the same request at
 * ~5x the CPU (bench/RESULTS.md, "Post-call analysis off set-ups' way"). Interrupting the effect
 * (the caller's timeout) aborts the request. `close` ends the agent's idle sockets.
 */
export const makeResponsesClient = (options: ResponsesClientOptions) => {
  const url = new URL(`${options.baseUrl.replace(/\/+$/, "")}/responses`)
  const secure = url.protocol === "https:"
  const agent = secure ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true })
  const limit = options.maxResponseBytes ?? MAX_RESPONSE_BYTES
  const headers: Record<string, string> = {
    authorization: `Bearer ${options.apiKey}`,
    "content-type": "application/json",
    accept: "application/json",
    ...(options.organization === undefined ? {} : { "openai-organization": options.organization }),
    ...(options.project === undefined ? {} : { "openai-project": options.project })
  }

  /** The model's text, or why there is none. */
  const create = (body: unknown): Effect.Effect<string, AnalysisFailed> =>
    Effect.async<string, AnalysisFailed>((resume) => {
      const payload = Buffer.from(JSON.stringify(body), "utf8")
      // A destroyed request may still emit an error after the outcome is known: the first one counts.
      let settled = false
      const settle = (outcome: Effect.Effect<string, AnalysisFailed>) => {
        if (settled) return
        settled = true
        resume(outcome)
      }
      const fail = (message: string) => settle(Effect.fail(new AnalysisFailed({ message })))
      const request = (secure ? https : http).request(url, {
        method: "POST",
        agent,
        headers: { ...headers, "content-length": String(payload.length) }
      }, (response) => {
        const chunks: Array<Buffer> = []
        let size = 0
        response.on("data", (chunk: Buffer) => {
          size += chunk.length
          if (size > limit) {
            request.destroy()
            fail(`the answer was larger than ${limit} bytes`)
          } else {
            chunks.push(chunk)
          }
        })
        response.on("error", (error) => fail(`the answer was cut off: ${error.message}`))
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8")
          const status = response.statusCode ?? 0
          if (status < 200 || status >= 300) return fail(statusMessage(status, text))
          let parsed: unknown
          try {
            parsed = JSON.parse(text)
          } catch {
            return fail("the answer was not JSON")
          }
          const output = outputText(parsed)
          return output === undefined ? fail("the answer was not a Responses API object") : settle(Effect.succeed(output))
        })
      })
      request.on("error", (error) => fail(`Connection error: ${error.message}`))
      request.end(payload)
      return Effect.sync(() => {
        settled = true
        request.destroy()
      })
    })

  return { create, close: () => agent.destroy() } as const
}
