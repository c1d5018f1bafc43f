import { expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { isoOfTimestamptz } from "../src/Database/TimestampText.js"
import { jsonBytes } from "../src/Http/JsonBytes.js"
import { testDatabaseUrl, withClient } from "./support/TestDatabase.js"

/**
 * List pages select timestamps as text and write them in the API's text (Database/TimestampText.ts;
 * into a page's bytes, Http/JsonBytes.ts); before, PostgreSQL wrote them with `ssv_iso` (migration 0010).
 * The two must agree on every value the service can hold, in a UTC session (the pool's) and in
 * any other (a connection whose zone was set differently takes the Date's way).
 */
const VALUES = [
  "2026-12-03 13:18:27+00", "2026-12-03 13:18:27.1+00", "2026-12-03 13:18:27.12+00", "2026-12-03 13:18:27.123+00",
  "2026-12-03 13:18:27.1234+00", "2026-12-03 13:18:27.12345+00", "2026-12-03 13:18:27.999999+00", "2026-12-03 13:18:27.000001+00",
  "2026-12-03 13:18:27.0009+00", "2026-12-31 23:59:59.9999+00", "2024-02-29 00:00:00.5+00", "1970-01-01 00:00:00+00",
  "1969-12-31 23:59:59.999+00", "1000-01-01 00:00:00.057+00", "9999-12-31 23:59:59.999999+00",
  // Written in other zones (half- and quarter-hour offsets, a summer time change, a historic local mean time).
  "2026-03-29 02:30:00.25+02", "2026-11-01 01:30:00.75-04", "2026-12-03 13:18:27.5+05:45", "2026-12-03 13:18:27.5-03:30",
  "1900-01-01 00:00:00.001 Europe/Amsterdam"
]

const ZONES = ["UTC", "Europe/Amsterdam", "America/St_Johns", "Asia/Kathmandu", "America/New_York", "Pacific/Kiritimati"]

it.scoped("TimestampText.isoOfTimestamptz writes what ssv_iso writes, for every value in every session zone", () =>
    Effect.gen(function*() {
      const url = yield* testDatabaseUrl
      const compared = yield* withClient(url, async (client) => {
        // The text as PostgreSQL sends it, not pg's Date.
        client.setTypeParser(1184, (text: string) => text)
        const rows: Array<{ zone: string; text: string; expected: string }> = []
        for (const zone of ZONES) {
          await client.query(`set time zone '${zone}'`)
          const result = await client.query<{ text: string; expected: string }>(
            "select v as text, ssv_iso(v) as expected from unnest($1::timestamptz[]) v",
            [VALUES]
          )
          rows.push(...result.rows.map((row) => ({ zone, ...row })))
        }
        return rows
      })
      expect(compared.length).toBe(VALUES.length * ZONES.length)
      const written = compared.map(({ text, zone }) => ({ zone, text, iso: isoOfTimestamptz(text) }))
      expect(written).toEqual(compared.map(({ expected, text, zone }) => ({ zone, text, iso: expected })))
      const bytes = compared.map(({ text, zone }) => ({ zone, text, json: jsonBytes((out) => out.timestamp(text)).toString("utf8") }))
      expect(bytes).toEqual(compared.map(({ expected, text, zone }) => ({ zone, text, json: JSON.stringify(expected) })))
      // The UTC session's texts took the rearranging way: fractions of every length, none.
      expect(new Set(compared.filter((row) => row.zone === "UTC").map((row) => row.text.length)).size).toBe(7)
    }))
