/**
 * When a failed delivery is tried again: after attempt n (1-based) fails, the next one is
 * `RETRY_DELAYS_SECONDS[n - 1]` later, plus up to 10% jitter so a receiver coming back is
 * not hit by every replica's backlog at once, and never sooner than the receiver's
 * `Retry-After`. After the last delay's attempt fails, the row is final.
 */
export const RETRY_DELAYS_SECONDS: ReadonlyArray<number> = [
  5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 14 * 3600, 20 * 3600, 24 * 3600
]

/** Attempts in all: the first one and a retry per delay. */
export const MAX_ATTEMPTS = RETRY_DELAYS_SECONDS.length + 1

/** A receiver asking for more than a day is given a day (the schedule's longest step). */
const MAX_RETRY_AFTER_MS = 24 * 3600 * 1000

/**
 * `Retry-After` as milliseconds from `nowMs`: delta-seconds or an HTTP date; undefined when
 * absent or unreadable.
 */
export const parseRetryAfter = (header: string | undefined, nowMs: number): number | undefined => {
  if (header === undefined || header.trim() === "") return undefined
  const text = header.trim()
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - nowMs
  return Number.isFinite(ms) ? Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS) : undefined
}

/**
 * Milliseconds until the next attempt after `attempts` failed ones, or undefined when none
 * is left. `random` is in [0, 1).
 */
export const nextDelayMs = (attempts: number, random: number, retryAfterMs: number | undefined): number | undefined => {
  const base = RETRY_DELAYS_SECONDS[attempts - 1]
  if (base === undefined) return undefined
  const jittered = Math.round(base * 1000 * (1 + random / 10))
  return Math.max(jittered, retryAfterMs ?? 0)
}
