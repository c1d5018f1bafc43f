import { createHmac } from "node:crypto"

/**
 * The HMAC key of a Standard Webhooks secret: `whsec_` + base64 is the standard form (the
 * key is the decoded bytes); any other string is used as raw UTF-8 bytes.
 */
const keyOf = (secret: string): Buffer =>
  secret.startsWith("whsec_") ? Buffer.from(secret.slice("whsec_".length), "base64") : Buffer.from(secret, "utf8")

/** `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, the Standard Webhooks signature. */
export const sign = (secret: string, id: string, timestampSeconds: number, body: string): string =>
  `v1,${createHmac("sha256", keyOf(secret)).update(`${id}.${timestampSeconds}.${body}`).digest("base64")}`

/**
 * The Standard Webhooks headers of one delivery. During a secret rotation every secret
 * signs, space-separated, so a receiver holding either one verifies.
 */
export const webhookHeaders = (
  secrets: ReadonlyArray<string>,
  id: string,
  timestampSeconds: number,
  body: string
): Record<string, string> => {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(timestampSeconds)
  }
  if (secrets.length > 0) {
    headers["webhook-signature"] = secrets.map((secret) => sign(secret, id, timestampSeconds, body)).join(" ")
  }
  return headers
}
