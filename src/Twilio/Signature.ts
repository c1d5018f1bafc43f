import { createHmac } from "node:crypto"
import { constantTimeSameLengthEquals } from "../Auth/Crypto.js"

/**
 * Twilio's webhook signature: base64 HMAC-SHA1, keyed by the account's auth token, over
 * the full URL Twilio requested followed by every POST parameter sorted by name, each as
 * name + value (https://www.twilio.com/docs/usage/security#validating-requests).
 */
export const expectedSignature = (
  authToken: string,
  url: string,
  params: Readonly<Record<string, string | ReadonlyArray<string>>>
): string => {
  let data = url
  for (const name of Object.keys(params).sort()) {
    const value = params[name]!
    const values = typeof value === "string" ? [value] : [...value].sort()
    for (const item of values) data += name + item
  }
  return createHmac("sha1", authToken).update(data, "utf8").digest("base64")
}

/**
 * Twilio may sign the URL with or without the scheme's default port (as twilio-node's own
 * validator allows), so both spellings are accepted.
 */
const urlVariants = (url: string): ReadonlyArray<string> => {
  const match = /^(https?):\/\/([^/:?#]+)(:\d+)?(.*)$/i.exec(url)
  if (match === null) return [url]
  const [, scheme, host, port, rest] = match
  const defaultPort = scheme!.toLowerCase() === "https" ? ":443" : ":80"
  if (port === undefined) return [url, `${scheme}://${host}${defaultPort}${rest}`]
  return port === defaultPort ? [url, `${scheme}://${host}${rest}`] : [url]
}

/**
 * Constant-time check of the `X-Twilio-Signature` header. The expected value's length is
 * public (base64 of a SHA-1 digest: 28 characters), so a header of another length is refused
 * without hashing both to equalise them.
 */
export const signatureMatches = (
  authToken: string,
  url: string,
  params: Readonly<Record<string, string | ReadonlyArray<string>>>,
  given: string | undefined
): boolean =>
  given !== undefined && given !== "" &&
  urlVariants(url).some((candidate) => constantTimeSameLengthEquals(expectedSignature(authToken, candidate, params), given))
