import * as os from "node:os"
import { defineConfig } from "vitest/config"

/**
 * Test files at once. A file spends most of its time waiting (on PostgreSQL, on service
 * processes it started, on sockets), not computing, so one more file than there are cores
 * keeps the cores busy; vitest's own default (cores - 1) runs one file at a time on two.
 * VITEST_MAX_FORKS overrides it (1: one file at a time).
 */
const maxForks = Number(process.env.VITEST_MAX_FORKS ?? "") || os.availableParallelism() + 1

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/globalSetup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Files run in parallel processes; each creates (and drops) its own database.
    pool: "forks",
    poolOptions: { forks: { maxForks, minForks: 1 } },
    sequence: { concurrent: false }
  }
})
