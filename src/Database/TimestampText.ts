import pg from "pg"

const parseTimestamp = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ)

const SPACE = 32
const DASH = 45
const DOT = 46
/** "YYYY-MM-DD HH:MM:SS+00" */
const WHOLE_SECONDS = 22
/** "YYYY-MM-DD HH:MM:SS.ffffff+00" */
const MICROSECONDS = 29

/** A UTC session's text of a year 1000-9999 timestamp: "YYYY-MM-DD HH:MM:SS[.f{1,6}]+00", only rearranged into the ISO text. */
export const isPlainUtc = (text: string): boolean => {
  const length = text.length
  return length >= WHOLE_SECONDS && length <= MICROSECONDS && length !== WHOLE_SECONDS + 1 &&
    text.charCodeAt(4) === DASH && text.charCodeAt(10) === SPACE && text.endsWith("+00") &&
    (length === WHOLE_SECONDS || text.charCodeAt(19) === DOT)
}

/**
 * A `timestamptz` as PostgreSQL writes it (DateStyle ISO) in Date#toISOString's text (UTC,
 * milliseconds truncated, "Z"), the API's format. A UTC session's text (Database/Client.ts sets
 * one) is only rearranged: "2026-12-03 13:18:27.1234+00" -> "2026-12-03T13:18:27.123Z", what the
 * Date would give, without building one. Anything else (another zone's offset, BC, a year past
 * 9999, infinity) goes through pg's parser and the Date as before.
 */
export const isoOfTimestamptz = (text: string): string => {
  const length = text.length
  if (!isPlainUtc(text)) return (parseTimestamp(text) as Date).toISOString()
  const date = text.slice(0, 10)
  const time = text.slice(11, 19)
  // PostgreSQL drops trailing zeros of the fraction: pad to milliseconds, cut the rest.
  const millis = length === WHOLE_SECONDS ? "000" : `${text.slice(20, length - 3)}00`.slice(0, 3)
  return `${date}T${time}.${millis}Z`
}
