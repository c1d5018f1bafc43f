import * as crypto from "node:crypto"
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto"

/**
 * Node's one-shot `crypto.hash` (20.12+; `engines` allows any 20): every tenant request hashes
 * its API key, and the one-shot form is ~0.7 us against ~3.5 us for a Hash object (bench/RESULTS.md,
 * "REST machinery"). Same digest; `createHash` where it is missing.
 */
const oneShot = typeof crypto.hash === "function" ? crypto.hash : undefined

export const sha256 = (text: string): Buffer =>
  oneShot !== undefined ? oneShot("sha256", text, "buffer") : createHash("sha256").update(text, "utf8").digest()

export const sha256Hex = (text: string): string =>
  oneShot !== undefined ? oneShot("sha256", text, "hex") : createHash("sha256").update(text, "utf8").digest("hex")

/** Equal-time comparison of two strings of any length (compares their digests). */
export const constantTimeEquals = (a: string, b: string): boolean => timingSafeEqual(sha256(a), sha256(b))

export const constantTimeBufferEquals = (a: Buffer, b: Buffer): boolean =>
  a.length === b.length && timingSafeEqual(a, b)

export const randomToken = (bytes = 32): string => randomBytes(bytes).toString("base64url")

export const hmacSha256 = (key: Buffer, message: string): Buffer => createHmac("sha256", key).update(message).digest()
