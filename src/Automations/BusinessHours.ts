import { Either } from "effect"
import type { TenantConfig } from "../Tenants/Config.js"

/**
 * Opening hours in the tenant config:
 *   business_hours: { timezone: "America/New_York",
 *                     hours: { monday: "09:00-17:00", saturday: ["10:00-12:00", "13:00-15:00"], sunday: null },
 *                     closed_dates: ["2025-12-25"] }
 * A day that is missing, null or "closed" is closed. Pure functions; the clock is the caller's.
 */

const DAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"] as const
const RANGE = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/

interface Range {
  readonly text: string
  readonly start: number
  readonly end: number
}

export interface BusinessHoursAnswer {
  readonly configured: boolean
  readonly open: boolean
  readonly timezone: string
  readonly local_time: string
  readonly day: string
  readonly hours_today: ReadonlyArray<string>
  readonly next_open: string | null
}

interface LocalTime {
  readonly date: string
  readonly dayIndex: number
  readonly minutes: number
  readonly text: string
}

const localTime = (now: Date, timezone: string): Either.Either<LocalTime, string> => {
  try {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat("en-US", {
        timeZone: timezone,
        weekday: "long",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23"
      }).formatToParts(now).map((part) => [part.type, part.value])
    )
    const date = `${parts.year}-${parts.month}-${parts.day}`
    return Either.right({
      date,
      dayIndex: DAYS.indexOf(String(parts.weekday).toLowerCase() as (typeof DAYS)[number]),
      minutes: Number(parts.hour) * 60 + Number(parts.minute),
      text: `${date}T${parts.hour}:${parts.minute}`
    })
  } catch {
    return Either.left(`unknown time zone: ${timezone}`)
  }
}

/** The calendar date `days` after `date` (YYYY-MM-DD), in plain calendar arithmetic. */
const addDays = (date: string, days: number): string => {
  const [year, month, day] = date.split("-").map(Number)
  return new Date(Date.UTC(year!, month! - 1, day! + days)).toISOString().slice(0, 10)
}

const rangesOf = (value: unknown): Either.Either<ReadonlyArray<Range>, string> => {
  if (value === undefined || value === null || value === "closed") return Either.right([])
  const items = Array.isArray(value) ? value : [value]
  const ranges: Array<Range> = []
  for (const item of items) {
    const match = typeof item === "string" ? RANGE.exec(item) : null
    if (match === null) return Either.left(`business hours must look like "09:00-17:00", got ${JSON.stringify(item)}`)
    const start = Number(match[1]) * 60 + Number(match[2])
    const end = Number(match[3]) * 60 + Number(match[4])
    if (end <= start) return Either.left(`business hours range ${item} ends before it starts`)
    ranges.push({ text: item as string, start, end })
  }
  return Either.right(ranges)
}

/** Whether the business is open at `now`, in the tenant's time zone (else `fallbackTimezone`, else UTC). */
export const businessHours = (
  config: TenantConfig,
  now: Date,
  fallbackTimezone: string | undefined
): Either.Either<BusinessHoursAnswer, string> =>
  Either.gen(function*() {
    const settings = config.business_hours
    const timezone = settings?.timezone ?? fallbackTimezone ?? "UTC"
    const local = yield* localTime(now, timezone)
    const hours = settings?.hours
    const day = DAYS[local.dayIndex]!
    if (hours === undefined) {
      // Nothing configured: say so, and do not turn callers away.
      return { configured: false, open: true, timezone, local_time: local.text, day, hours_today: [], next_open: null }
    }
    // Holidays and closed dates are local calendar dates; both close the whole day.
    const closedDates = [...(settings?.closed_dates ?? []), ...(settings?.holidays ?? [])]
    const today = closedDates.includes(local.date) ? [] : yield* rangesOf(hours[day])
    const open = today.some((range) => local.minutes >= range.start && local.minutes < range.end)
    let nextOpen: string | null = null
    if (!open) {
      const laterToday = today.find((range) => range.start > local.minutes)
      if (laterToday !== undefined) nextOpen = `${day} ${laterToday.text.slice(0, 5)}`
      // Up to two weeks ahead, skipping closed dates (a holiday on the usual next opening day).
      for (let offset = 1; nextOpen === null && offset <= 14; offset++) {
        const nextDay = DAYS[(local.dayIndex + offset) % 7]!
        const date = addDays(local.date, offset)
        if (closedDates.includes(date)) continue
        const first = (yield* rangesOf(hours[nextDay]))[0]
        if (first !== undefined) nextOpen = offset < 7 ? `${nextDay} ${first.text.slice(0, 5)}` : `${date} ${first.text.slice(0, 5)}`
      }
    }
    return {
      configured: true,
      open,
      timezone,
      local_time: local.text,
      day,
      hours_today: today.map((range) => range.text),
      next_open: nextOpen
    }
  })
