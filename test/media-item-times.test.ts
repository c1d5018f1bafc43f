import { describe, expect, it } from "@effect/vitest"
import { ItemTimes } from "../src/Media/ItemTimes.js"
import { seededRandom } from "./support/SeededRandom.js"

describe("ItemTimes (when conversation items started)", () => {
  it("answers like a Map through any mix of set, get and delete", () => {
    const { int, random } = seededRandom(7)
    const times = new ItemTimes()
    const oracle = new Map<string, number>()
    for (let step = 0; step < 5_000; step++) {
      const id = `item_${int(6)}`
      const roll = random()
      if (roll < 0.45) {
        times.set(id, step)
        oracle.set(id, step)
      } else if (roll < 0.8) {
        times.delete(id)
        oracle.delete(id)
      }
      for (let n = 0; n < 6; n++) {
        const probe = `item_${n}`
        expect([step, probe, times.get(probe), times.has(probe)]).toEqual([step, probe, oracle.get(probe), oracle.has(probe)])
      }
    }
  })

  it("a later time for an open item replaces it, wherever it is kept", () => {
    const times = new ItemTimes()
    times.set("a", 1)
    times.set("b", 2)
    times.delete("a")
    times.set("b", 3) // "b" is kept past the first slot, which is free now
    times.set("c", 4)
    expect([times.get("a"), times.get("b"), times.get("c")]).toEqual([undefined, 3, 4])
    times.delete("b")
    expect([times.has("b"), times.get("c")]).toEqual([false, 4])
  })
})
