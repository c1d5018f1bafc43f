import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"
import { orNothing, orRefused, orUnavailable } from "../Database/Errors.js"

/** SQL for `admin_sessions` and `admin_login_failures`. */
export class AdminSessionsRepo extends Effect.Service<AdminSessionsRepo>()("AdminSessionsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return {
      insert: (tokenSha256: Buffer, username: string, ttlSeconds: number) =>
        orUnavailable(sql`insert into admin_sessions (token_sha256, username, expires_at)
          values (${tokenSha256}, ${username}, now() + make_interval(secs => ${ttlSeconds}))`),
      findUsername: (tokenSha256: Buffer) =>
        orUnavailable(sql<{ username: string }>`select username from admin_sessions
          where token_sha256 = ${tokenSha256} and expires_at > now()`).pipe(
          Effect.map((rows) => rows[0]?.username)
        ),
      remove: (tokenSha256: Buffer) => orUnavailable(sql`delete from admin_sessions where token_sha256 = ${tokenSha256}`),
      // Throttle keys carry the username typed into the login form.
      recentFailures: (keys: ReadonlyArray<string>, windowSeconds: number) =>
        orNothing(
          sql<{ failures: number }>`select coalesce(max(n), 0)::int as failures from (
            select count(*) as n from admin_login_failures
            where throttle_key in ${sql.in(keys)} and failed_at > now() - make_interval(secs => ${windowSeconds})
            group by throttle_key) counts`.pipe(Effect.map((rows) => rows[0]?.failures ?? 0)),
          0
        ),
      recordFailure: (keys: ReadonlyArray<string>) =>
        orRefused(sql`insert into admin_login_failures ${sql.insert(keys.map((throttle_key) => ({ throttle_key })))}`),
      clearFailures: (keys: ReadonlyArray<string>) =>
        orUnavailable(sql`delete from admin_login_failures where throttle_key in ${sql.in(keys)}`),
      purgeExpired: orUnavailable(Effect.all([
        sql`delete from admin_sessions where expires_at < now()`,
        sql`delete from admin_login_failures where failed_at < now() - interval '1 day'`
      ]))
    } as const
  })
}) {}
