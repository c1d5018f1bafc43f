import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto"

export const sha256 = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest()

export const sha256Hex = (text: string): string => sha256(text).toString("hex")

/** Equal-time comparison of two strings of any length (compares their digests). */
export const constantTimeEquals = (a: string, b: string): boolean => timingSafeEqual(sha256(a), sha256(b))

export const constantTimeBufferEquals = (a: Buffer, b: Buffer): boolean =>
  a.length === b.length && timingSafeEqual(a, b)

export const randomToken = (bytes = 32): string => randomBytes(bytes).toString("base64url")

export const hmacSha256 = (key: Buffer, message: string): Buffer => createHmac("sha256", key).update(message).digest()
