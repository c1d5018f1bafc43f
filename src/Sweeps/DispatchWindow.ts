import type { OperatorQueue } from "../OperatorQueues/Schemas.js"

const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"] as const

const minutes = (hhmm: string): number | undefined => {
  const match = /^(\d{1,2}):(\d{2})$/.exec(hhmm.trim())
  if (match === null) return undefined
  const value = Number(match[1]) * 60 + Number(match[2])
  return value <= 24 * 60 ? value : undefined
}

/** "09:00-17:00", a list of them, or null / "closed"; anything unreadable counts as closed. */
const ranges = (value: unknown): ReadonlyArray<readonly [number, number]> => {
  if (typeof value === "string") {
    const [from, to] = value.split("-")
    const start = from === undefined ? undefined : minutes(from)
    const end = to === undefined ? undefined : minutes(to)
    return start === undefined || end === undefined ? [] : [[start, end]]
  }
  return Array.isArray(value) ? value.flatMap(ranges) : []
}

/** Weekday and minute of the day at `at` in `timeZone`. */
const localTime = (at: Date, timeZone: string) => {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone, weekday: "long", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
    .formatToParts(at)
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? ""
  return { weekday: part("weekday").toLowerCase(), minute: Number(part("hour")) * 60 + Number(part("minute")) }
}

const insideUtcHours = (queue: OperatorQueue, at: Date) => {
  const start = queue.dispatch_window_start_hour_utc
  const end = queue.dispatch_window_end_hour_utc
  if (start === null || start === undefined || end === null || end === undefined || start === end) return true
  const hour = at.getUTCHours()
  // A window like 22-6 spans midnight.
  return start < end ? hour >= start && hour < end : hour >= start || hour < end
}

const insideSchedule = (queue: OperatorQueue, at: Date) => {
  const schedule = queue.dispatch_schedule
  if (typeof schedule !== "object" || schedule === null) return true
  const days = Object.entries(schedule).filter(([key]) => (WEEKDAYS as ReadonlyArray<string>).includes(key.toLowerCase()))
  if (days.length === 0) return true
  const { minute, weekday } = localTime(at, queue.dispatch_timezone ?? "UTC")
  const today = days.find(([key]) => key.toLowerCase() === weekday)
  return today !== undefined && ranges(today[1]).some(([start, end]) => minute >= start && minute < end)
}

/**
 * Whether a queue may dial at `at`: inside its UTC hour window (`dispatch_window_*_hour_utc`,
 * may span midnight) and inside its weekly `dispatch_schedule` read in `dispatch_timezone`
 * (`{"monday": "09:00-17:00", "saturday": ["10:00-12:00"], ...}`; a day left out is closed).
 * A queue with neither may dial at any time.
 */
export const insideDispatchWindow = (queue: OperatorQueue, at: Date): boolean =>
  insideUtcHours(queue, at) && insideSchedule(queue, at)
