import { describe, expect, it } from "@effect/vitest"
import { createHash } from "node:crypto"
import { sha256, sha256Hex } from "../src/Auth/Crypto.js"
import { seededRandom } from "./support/SeededRandom.js"

/**
 * API keys are looked up by their SHA-256 (src/Auth/Crypto.ts, one-shot `crypto.hash`): the digest
 * must be the one stored keys were written with. Oracle: a `createHash` Hash object over UTF-8.
 */
const { int, pick } = seededRandom(20261203)
const PIECES = ["a", "Z", "0", "_", " ", "é", "ß", "😀", "\u0000", "\u2028", "\ud800", "\udfff", "ssv_live_", "\\"]

describe("sha256", () => {
  it("is createHash's digest over the UTF-8 text, as bytes and as hex", () => {
    const texts = ["", "ssv_live_abc", ...Array.from({ length: 2_000 }, () => Array.from({ length: int(64) }, () => pick(PIECES)).join(""))]
    for (const text of texts) {
      const oracle = createHash("sha256").update(text, "utf8").digest()
      expect(sha256(text).equals(oracle)).toBe(true)
      expect(sha256Hex(text)).toBe(oracle.toString("hex"))
    }
  })
})
