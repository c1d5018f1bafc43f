import { describe, expect, it } from "@effect/vitest"
import { OperatorQueue } from "../src/OperatorQueues/Schemas.js"
import { insideDispatchWindow } from "../src/Sweeps/DispatchWindow.js"

const queue = (fields: Partial<OperatorQueue>) =>
  new OperatorQueue({
    active: true, auto_dispatch_enabled: true, auto_dispatch_max_attempts: 3, created_at: new Date(0), dispatch_schedule: {},
    id: "q", is_default: false, metadata: {}, name: "Q", priority: 0, queue_key: "q", tenant_id: "t", updated_at: new Date(0),
    ...fields
  })

// 2024-01-15 was a Monday.
const at = (iso: string) => new Date(iso)

describe("dispatch window", () => {
  it("a queue with no window dials at any time", () => {
    expect(insideDispatchWindow(queue({}), at("2024-01-15T03:00:00Z"))).toBe(true)
  })

  it("UTC hours: start inclusive, end exclusive, and a window may span midnight", () => {
    const day = queue({ dispatch_window_start_hour_utc: 14, dispatch_window_end_hour_utc: 22 })
    expect(insideDispatchWindow(day, at("2024-01-15T13:59:00Z"))).toBe(false)
    expect(insideDispatchWindow(day, at("2024-01-15T14:00:00Z"))).toBe(true)
    expect(insideDispatchWindow(day, at("2024-01-15T22:00:00Z"))).toBe(false)
    const night = queue({ dispatch_window_start_hour_utc: 22, dispatch_window_end_hour_utc: 6 })
    expect(insideDispatchWindow(night, at("2024-01-15T23:30:00Z"))).toBe(true)
    expect(insideDispatchWindow(night, at("2024-01-15T05:59:00Z"))).toBe(true)
    expect(insideDispatchWindow(night, at("2024-01-15T12:00:00Z"))).toBe(false)
  })

  it("the weekly schedule is read in the queue's time zone; a day left out is closed", () => {
    const ny = queue({ dispatch_timezone: "America/New_York", dispatch_schedule: { monday: "09:00-17:00", saturday: ["10:00-12:00"] } })
    // 14:00Z is 09:00 in New York (EST, UTC-5) on Monday.
    expect(insideDispatchWindow(ny, at("2024-01-15T13:59:00Z"))).toBe(false)
    expect(insideDispatchWindow(ny, at("2024-01-15T14:00:00Z"))).toBe(true)
    expect(insideDispatchWindow(ny, at("2024-01-15T22:00:00Z"))).toBe(false)
    // 03:00Z Tuesday is still Monday 22:00 in New York: closed; Sunday is not listed: closed.
    expect(insideDispatchWindow(ny, at("2024-01-16T03:00:00Z"))).toBe(false)
    expect(insideDispatchWindow(ny, at("2024-01-14T15:00:00Z"))).toBe(false)
    expect(insideDispatchWindow(ny, at("2024-01-20T15:30:00Z"))).toBe(true)
  })

  it("both must allow: UTC hours and the schedule", () => {
    const both = queue({ dispatch_window_start_hour_utc: 15, dispatch_window_end_hour_utc: 16, dispatch_schedule: { monday: "00:00-24:00" } })
    expect(insideDispatchWindow(both, at("2024-01-15T15:10:00Z"))).toBe(true)
    expect(insideDispatchWindow(both, at("2024-01-15T14:10:00Z"))).toBe(false)
    expect(insideDispatchWindow(both, at("2024-01-16T15:10:00Z"))).toBe(false)
  })
})
