import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Chunk, Clock, Effect, Redacted, Stream } from "effect"
import { GuardedHttpClient } from "../Egress/GuardedHttpClient.js"
import { failureText } from "../Http/UrlSecrets.js"
import { Ids } from "../Ids.js"
import { webhookHeaders } from "../Outbox/Signing.js"
import type { TenantConfig } from "../Tenants/Config.js"
import { REDACTED } from "../Tenants/Domain.js"

/** What a tenant endpoint answered: a 2xx with its body (JSON when it parses), or why not. */
export type SignedReply =
  | { readonly _tag: "Answered"; readonly status: number; readonly body: unknown }
  | { readonly _tag: "Failed"; readonly message: string; readonly timedOut: boolean }

/** A tenant endpoint may answer at most this much; a longer reply is a failure, not truncated data. */
export const MAX_REPLY_BYTES = 65_536

/** The secrets the tenant's endpoints verify us with (current first), as the webhooks are signed. */
export const signingSecrets = (config: TenantConfig): ReadonlyArray<string> =>
  [config.webhook_secret, config.webhook_secret_previous].flatMap((secret) =>
    secret === undefined ? [] : [Redacted.value(secret)]
  )

/** What went wrong, for the model and the log: the URL's credential (`?token=`, `user:pass@`) left out. */
const describe = (url: string) => (error: unknown): string => failureText(error, REDACTED, url)

const readBounded = (stream: Stream.Stream<Uint8Array, string>) =>
  Stream.runFoldEffect(stream, Chunk.empty<Uint8Array>(), (chunks, chunk): Effect.Effect<Chunk.Chunk<Uint8Array>, string> => {
    const size = Chunk.reduce(chunks, 0, (total, part) => total + part.length) + chunk.length
    return size > MAX_REPLY_BYTES
      ? Effect.fail(`the reply is larger than ${MAX_REPLY_BYTES} bytes`)
      : Effect.succeed(Chunk.append(chunks, chunk))
  }).pipe(Effect.map((chunks) => Buffer.concat(Chunk.toReadonlyArray(chunks)).toString("utf8")))

const parsed = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

/**
 * POSTs `payload` as JSON to a tenant-chosen `url`: Standard Webhooks headers signed with the
 * tenant's webhook secret, through the egress guard, within `timeoutMs`, reply bounded.
 * Never fails: every outcome is a `SignedReply`.
 */
export const signedPost = (config: TenantConfig, url: string, payload: unknown, timeoutMs: number) =>
  Effect.gen(function*() {
    const { client } = yield* GuardedHttpClient
    const id = `msg_${(yield* (yield* Ids).uuid).replaceAll("-", "")}`
    const body = JSON.stringify(payload)
    const headers = webhookHeaders(signingSecrets(config), id, Math.floor((yield* Clock.currentTimeMillis) / 1000), body)
    const request = HttpClientRequest.post(url).pipe(
      HttpClientRequest.setHeaders(headers),
      HttpClientRequest.bodyText(body, "application/json")
    )
    const answer = yield* client.execute(request).pipe(
      Effect.mapError(describe(url)),
      Effect.flatMap((response) =>
        Effect.map(readBounded(response.stream.pipe(Stream.mapError(describe(url)))), (text) => ({ status: response.status, text }))
      ),
      Effect.scoped,
      Effect.timeout(timeoutMs),
      Effect.either
    )
    if (answer._tag === "Left") {
      const timedOut = typeof answer.left !== "string"
      const message = timedOut ? `timed out after ${timeoutMs} ms` : String(answer.left)
      return { _tag: "Failed", message, timedOut } satisfies SignedReply
    }
    const { status, text } = answer.right
    if (status < 200 || status >= 300) {
      return { _tag: "Failed", message: `answered HTTP ${status}`, timedOut: false } satisfies SignedReply
    }
    return { _tag: "Answered", status, body: text === "" ? null : parsed(text) } satisfies SignedReply
  })
