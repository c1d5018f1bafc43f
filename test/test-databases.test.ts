import { describe, expect, it } from "vitest"
import { staleTestDatabases, testDatabaseName } from "./support/StaleDatabases.js"

describe("test databases on a shared server", () => {
  const now = 1_796_000_000
  it("sweeps only this suite's databases older than six hours", () => {
    const fresh = testDatabaseName(now - 60, "0123456789ab")
    const running = testDatabaseName(now - 5 * 3600, "0123456789ab")
    const stale = testDatabaseName(now - 7 * 3600, "abcdefabcdef")
    expect(staleTestDatabases([fresh, running, stale, "ssv_test_0123456789ab", "ssv_rest_ab", "test", "postgres"], now)).toEqual([stale])
  })
})
