import { describe, expect, it } from "@effect/vitest"
import { makeBoundedLru } from "../src/CallLogs/BoundedLru.js"

/** The latency report cache's memory bound (CallLogs/BoundedLru.ts): bytes, least recently used out first. */
describe("BoundedLru", () => {
  it("drops the least recently used values past its budget of bytes", () => {
    const lru = makeBoundedLru<string>(100)
    lru.set("a", "A", 40)
    lru.set("b", "B", 40)
    expect(lru.get("a")).toBe("A") // a is now the most recently used
    lru.set("c", "C", 40) // 120 > 100: b goes
    expect([lru.get("a"), lru.get("b"), lru.get("c")]).toEqual(["A", undefined, "C"])
    expect(lru.usage()).toEqual({ bytes: 80, entries: 2 })
    lru.set("d", "D", 90) // a and c both go
    expect([lru.get("a"), lru.get("c"), lru.get("d")]).toEqual([undefined, undefined, "D"])
    expect(lru.usage()).toEqual({ bytes: 90, entries: 1 })
  })

  it("replaces a key's value and size, and never holds a value larger than the budget", () => {
    const lru = makeBoundedLru<string>(100)
    lru.set("a", "A", 30)
    lru.set("a", "A2", 60)
    expect(lru.usage()).toEqual({ bytes: 60, entries: 1 })
    lru.set("big", "B", 101)
    expect([lru.get("a"), lru.get("big")]).toEqual(["A2", undefined])
    lru.set("a", "A3", 101) // the old value goes too: it is stale
    expect(lru.get("a")).toBeUndefined()
    lru.delete("nothing")
    expect(lru.usage()).toEqual({ bytes: 0, entries: 0 })
  })

  it("stays within its budget under many keys", () => {
    const lru = makeBoundedLru<number>(10_000)
    for (let i = 0; i < 100_000; i++) lru.set(`tenant-${i}`, i, 1 + (i % 300))
    expect(lru.usage().bytes).toBeLessThanOrEqual(10_000)
    expect(lru.get("tenant-99999")).toBe(99_999)
  })
})
