import { Either } from "effect"

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, min: 60, h: 3_600, d: 86_400, w: 604_800 }
const NAMED: Record<string, string> = { minute: "1m", hour: "1h", day: "1d", week: "7d", month: "30d" }
const MAX_WINDOW_SECONDS = 366 * 86_400
const MAX_POINTS = 2_000

export interface Span {
  /** As the caller wrote it (normalized), echoed in responses. */
  readonly label: string
  readonly seconds: number
}

/** "90m", "24h", "7d", "2w", or hour/day/week/month. */
export const parseSpan = (name: string, text: string): Either.Either<Span, string> => {
  const raw = text.trim().toLowerCase()
  const normalized = NAMED[raw] ?? raw
  const match = /^(\d{1,6})\s*(s|m|min|h|d|w)$/.exec(normalized)
  const seconds = match === null ? 0 : Number(match[1]) * UNIT_SECONDS[match[2]!]!
  if (match === null || seconds <= 0) {
    return Either.left(`${name} must be a duration such as 15m, 1h, 24h, 7d or 30d (got '${text}')`)
  }
  if (seconds > MAX_WINDOW_SECONDS) return Either.left(`${name} must be at most 366d`)
  return Either.right({ label: normalized, seconds })
}

export const parseWindow = (text: string | undefined) => parseSpan("window", text ?? "24h")

/** A window and a bucket for a timeseries, limited to a sane number of points. */
export const parseSeries = (window: string | undefined, bucket: string | undefined) =>
  Either.flatMap(parseWindow(window), (w) =>
    Either.flatMap(parseSpan("bucket", bucket ?? "1h"), (b) => {
      if (b.seconds < 60) return Either.left("bucket must be at least 1m")
      if (w.seconds / b.seconds > MAX_POINTS) {
        return Either.left(`window/bucket gives more than ${MAX_POINTS} points; use a wider bucket`)
      }
      return Either.right({ window: w, bucket: b })
    }))
