import { seededRandom } from "./SeededRandom.js"

/**
 * Awkward values for tests that compare a fast JSON writer with the schema path (row-json,
 * call-log-detail): text JSON.stringify must escape, numbers JavaScript writes otherwise than
 * PostgreSQL, object keys that move (array indexes) or are special (`__proto__`), deep nesting.
 * Seeded, so a failure replays.
 */
export const awkwardJson = (seed: number) => {
  const { int, pick, random } = seededRandom(seed)

  /** No NUL: PostgreSQL text cannot hold it. */
  const PIECES = [
    "a", "Z", " ", "\"", "\\", "\\\"", "\n", "\r", "\t", "\b", "\f", "\u0001", "\u001f", "\u007f", "é", "ß", "😀", "\u2028",
    "\u2029", "</script>", ":", ", ", "{", "}", "[", "]", "1.50", "-0", "null", "\\u0041", "'", "%", "_"
  ]
  const text = (max = 12) => Array.from({ length: int(max) }, () => pick(PIECES)).join("")
  const nullable = <A>(value: () => A) => (random() < 0.3 ? null : value())

  /** Number literals whose JavaScript rendering differs from PostgreSQL's, and some that do not. */
  const NUMBERS = [
    "0", "-0", "1", "-17", "1.50", "2.0", "1e3", "1E-7", "-2.5e+10", "0.1", "123456789012345", "1234567890123456",
    "12345678901234567890", "9007199254740993", "1e21", "1e-7", "3.14159265358979323846", "100.000"
  ]

  /** JSON text (not a JS value: keys such as `__proto__`, duplicates and array indexes survive). */
  const jsonText = (depth: number): string => {
    const kind = depth <= 0 ? int(4) : int(6)
    switch (kind) {
      case 0:
        return pick(["null", "true", "false"])
      case 1:
        return pick(NUMBERS)
      case 2:
      case 3:
        return JSON.stringify(text())
      case 4:
        return `[${Array.from({ length: int(5) }, () => jsonText(depth - 1)).join(", ")}]`
      default: {
        const keys = Array.from({ length: int(5) }, () => pick(["a", "role", "content", "10", "0", "__proto__", "x", text(4)]))
        return `{${keys.map((key) => `${JSON.stringify(key)}: ${jsonText(depth - 1)}`).join(",")}}`
      }
    }
  }

  /** A transcript of `entries` turns as the service writes them (role, content, timestamp). */
  const transcript = (entries: number) =>
    JSON.stringify(Array.from({ length: entries }, (_, i) => ({
      role: pick(["user", "assistant"]),
      content: text(40),
      timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString()
    })))

  /** A timestamp with microseconds (the wire keeps milliseconds, truncated). */
  const timestamp = () => {
    const ms = Date.UTC(2000, 0, 1) + int(99 * 365 * 86_400) * 1000 + int(1000)
    return new Date(ms).toISOString().replace("Z", `${int(1000).toString().padStart(3, "0")}Z`)
  }

  return { int, pick, random, PIECES, NUMBERS, text, nullable, jsonText, transcript, timestamp } as const
}
