import { describe, expect, it } from "@effect/vitest"
import { MAX_ATTEMPTS, nextDelayMs, parseRetryAfter, RETRY_DELAYS_SECONDS } from "../src/Outbox/Retry.js"

describe("webhook retry schedule", () => {
  it("5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, then nothing: ten attempts in all", () => {
    const hours = (h: number) => h * 3600
    expect(RETRY_DELAYS_SECONDS).toEqual([5, 300, 1800, hours(2), hours(5), hours(10), hours(14), hours(20), hours(24)])
    expect(MAX_ATTEMPTS).toBe(10)
    expect(RETRY_DELAYS_SECONDS.map((_, i) => nextDelayMs(i + 1, 0, undefined))).toEqual(RETRY_DELAYS_SECONDS.map((s) => s * 1000))
    expect(nextDelayMs(10, 0, undefined)).toBeUndefined()
  })

  it("jitter adds up to 10%, never less than the step", () => {
    expect(nextDelayMs(1, 0.999, undefined)).toBe(5500)
    expect(nextDelayMs(2, 0.5, undefined)).toBe(315_000)
  })

  it("Retry-After in seconds or as an HTTP date pushes the next attempt out, capped at a day", () => {
    const now = Date.parse("2030-01-01T00:00:00Z")
    expect(parseRetryAfter("120", now)).toBe(120_000)
    expect(parseRetryAfter("Tue, 01 Jan 2030 00:10:00 GMT", now)).toBe(600_000)
    expect(parseRetryAfter("Mon, 31 Dec 2029 23:00:00 GMT", now)).toBe(0)
    expect(parseRetryAfter("999999999", now)).toBe(24 * 3600 * 1000)
    expect(parseRetryAfter("soon", now)).toBeUndefined()
    expect(parseRetryAfter(undefined, now)).toBeUndefined()
    expect(nextDelayMs(1, 0, 120_000)).toBe(120_000)
    // A shorter Retry-After does not bring an attempt forward.
    expect(nextDelayMs(2, 0, 1000)).toBe(300_000)
  })
})
