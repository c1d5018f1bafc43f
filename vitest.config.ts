import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/globalSetup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Files run in parallel processes; each creates (and drops) its own database.
    pool: "forks",
    sequence: { concurrent: false }
  }
})
