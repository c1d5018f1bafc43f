import * as crypto from "node:crypto"
import { createHash, createHmac, randomBytes, randomFillSync, timingSafeEqual } from "node:crypto"

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

/**
 * Equal-time comparison of two strings whose length is public (a signature's digest: the expected
 * one's length is the algorithm's): no hashing to equalise lengths, unlike `constantTimeEquals`.
 */
export const constantTimeSameLengthEquals = (a: string, b: string): boolean =>
  constantTimeBufferEquals(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"))

export const randomToken = (bytes = 32): string => randomBytes(bytes).toString("base64url")

/** Random bytes drawn 4 KiB at a time: one call into OpenSSL per 256 ids instead of one per id. */
const POOL_BYTES = 4096
const pool = Buffer.allocUnsafe(POOL_BYTES)
let poolOffset = POOL_BYTES

/**
 * `randomToken(bytes)` for the many small ids of the call set-up path (a stream token's
 * single-use id): the same CSPRNG bytes, each handed out once, as node's `randomUUID` batches
 * its own. Not for long-lived secrets (API keys, sessions): those keep `randomToken`.
 */
export const randomId = (bytes = 16): string => {
  if (bytes > POOL_BYTES) return randomToken(bytes)
  if (poolOffset + bytes > POOL_BYTES) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const id = pool.toString("base64url", poolOffset, poolOffset + bytes)
  poolOffset += bytes
  return id
}

export const hmacSha256 = (key: Buffer, message: string): Buffer => createHmac("sha256", key).update(message).digest()
