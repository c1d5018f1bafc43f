import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import { orUnavailable } from "../Database/Errors.js"

/**
 * Secrets every replica must share when no environment value is configured (HMAC keys).
 * The first replica to ask creates one; all others read the same row.
 */
export class ServiceSecrets extends Effect.Service<ServiceSecrets>()("ServiceSecrets", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const known = new Map<string, Buffer>()

    const fetch = (name: string) =>
      Effect.gen(function*() {
        yield* sql`insert into service_secrets (name, secret) values (${name}, ${randomBytes(32)})
                   on conflict (name) do nothing`
        const rows = yield* sql<{ secret: Buffer }>`select secret from service_secrets where name = ${name}`
        return rows[0]!.secret
      })

    return {
      /** The secret if this replica has read it already (plain code), else undefined: `get` reads it. */
      known: (name: string): Buffer | undefined => known.get(name),
      get: (name: string) =>
        Effect.suspend(() => {
          const cached = known.get(name)
          return cached !== undefined
            ? Effect.succeed(cached)
            : orUnavailable(fetch(name)).pipe(Effect.tap((secret) => Effect.sync(() => known.set(name, secret))))
        })
    } as const
  })
}) {}
