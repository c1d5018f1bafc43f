import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { SERVICE_NODE_FLAGS, withServiceNodeFlags } from "../src/NodeFlags.js"
import { eventually } from "./support/Eventually.js"
import { childPids, commandLine } from "./support/Processes.js"
import { startReplica } from "./support/Replicas.js"
import { testDatabaseUrl } from "./support/TestDatabase.js"

// npm start and the image's CMD carry the flags on node's command line (test/deploy.test.ts,
// test/first-run.test.ts); here, the one launch the service itself makes: its workers.
describe("the service's node flags", () => {
  it("a worker gets each flag its primary lacks, and an operator's own value of one is kept", () => {
    expect(withServiceNodeFlags([])).toEqual(SERVICE_NODE_FLAGS)
    expect(withServiceNodeFlags(["--enable-source-maps"])).toEqual(["--enable-source-maps", ...SERVICE_NODE_FLAGS])
    expect(withServiceNodeFlags([...SERVICE_NODE_FLAGS])).toEqual(SERVICE_NODE_FLAGS)
    for (const own of ["--max-semi-space-size=16", "--max_semi_space_size=16"]) {
      expect(withServiceNodeFlags([own]).filter((flag) => /semi.space/.test(flag))).toEqual([own])
    }
  })

  it.live("SERVICE_WORKERS: the workers run with them even when the primary was started without them", () =>
    Effect.gen(function*() {
      const replica = yield* startReplica(yield* testDatabaseUrl, { SERVICE_WORKERS: "2" })
      const primary = replica.process.pid!
      for (const flag of SERVICE_NODE_FLAGS) expect(commandLine(primary)).not.toContain(flag)
      const workers = yield* eventually(Effect.sync(() => childPids(primary)), (pids) => pids.length === 2, 30_000)
      expect(workers).toHaveLength(2)
      for (const pid of workers) {
        const argv = commandLine(pid)
        for (const flag of SERVICE_NODE_FLAGS) expect(argv, argv.join(" ")).toContain(flag)
      }
    }).pipe(Effect.scoped), 60_000)
})
