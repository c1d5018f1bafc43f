import { describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const SRC = fileURLToPath(new URL("../src", import.meta.url))

const sources = (dir: string): Array<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    return entry.isDirectory() ? sources(full) : full.endsWith(".ts") ? [full] : []
  })

/** `import ... from "X"` and `import("X")` specifiers that load code (type-only imports are erased). */
const runtimeImports = (text: string) => [
  ...[...text.matchAll(/^import (?!type )[^"]*?from "([^"]+)"/gm)].map((match) => match[1]!),
  ...[...text.matchAll(/import\("([^"]+)"\)/g)].map((match) => match[1]!)
]

/**
 * Package entry points that load modules an idle replica never uses. `@effect/platform`'s index
 * alone pulls in the Scalar and Swagger UI bundles as JavaScript string literals (20 MB of heap,
 * kept for good) plus workers, key-value stores and MsgPack; the others pull in clients we do not
 * use (`@effect/sql`'s index loads its event journal, `@effect/experimental`'s event log and
 * msgpackr). Name the module instead: `@effect/platform/HttpApiBuilder`, `@effect/sql/SqlClient`.
 */
const BARRELS = ["@effect/platform", "@effect/platform-node", "@effect/opentelemetry", "@effect/experimental", "@effect/sql"]


describe("what the service loads at start", () => {
  it("no source file imports a package barrel that loads unused modules (idle memory, issue 11)", () => {
    const offenders = sources(SRC).flatMap((file) =>
      runtimeImports(fs.readFileSync(file, "utf8"))
        .filter((specifier) => BARRELS.includes(specifier))
        .map((specifier) => `${path.relative(SRC, file)}: ${specifier}`)
    )
    expect(offenders).toEqual([])
  })
})
