import { Effect, Option, Redacted, Schedule, Schema } from "effect"
import { AppConfig } from "../Config.js"
import { Migrations } from "../Database/Migrations.js"
import { AdminSessionsRepo } from "./Repo.js"
import { constantTimeEquals, randomToken, sha256, sha256Hex } from "./Crypto.js"

export const ADMIN_SESSION_TTL_SECONDS = 12 * 60 * 60
const THROTTLE_WINDOW_SECONDS = 15 * 60
const MAX_FAILURES_PER_WINDOW = 10

export class AdminLoginDisabled extends Schema.TaggedError<AdminLoginDisabled>()("AdminLoginDisabled", {}) {
  readonly status = 404 as const
  override get message() {
    return "Admin login is not configured"
  }
}

export class InvalidAdminCredentials extends Schema.TaggedError<InvalidAdminCredentials>()("InvalidAdminCredentials", {}) {
  readonly status = 401 as const
  override get message() {
    return "Invalid username or password"
  }
}

export class AdminLoginThrottled extends Schema.TaggedError<AdminLoginThrottled>()("AdminLoginThrottled", {
  retryAfterSeconds: Schema.Number
}) {
  readonly status = 429 as const
  override get message() {
    return "Too many failed login attempts; try again later"
  }
}

/**
 * Browser sessions for the admin dashboard: username + password (plain or SHA-256 from the
 * environment), sessions stored hashed with an expiry, failed attempts throttled per client
 * address and per username across all replicas.
 */
export class AdminSessions extends Effect.Service<AdminSessions>()("AdminSessions", {
  scoped: Effect.gen(function*() {
    const config = yield* AppConfig
    const repo = yield* AdminSessionsRepo
    const migrations = yield* Migrations

    yield* migrations.awaitApplied.pipe(
      Effect.zipRight(repo.purgeExpired.pipe(Effect.ignore, Effect.repeat(Schedule.spaced("10 minutes")))),
      Effect.forkScoped
    )

    const credentialsMatch = (username: string, password: string) => {
      const userOk = Option.match(config.adminUsername, {
        onNone: () => false,
        onSome: (expected) => constantTimeEquals(expected, username)
      })
      const passwordOk = Option.isSome(config.adminPassword)
        ? constantTimeEquals(Redacted.value(config.adminPassword.value), password)
        : Option.isSome(config.adminPasswordSha256) &&
          constantTimeEquals(Redacted.value(config.adminPasswordSha256.value).trim().toLowerCase(), sha256Hex(password))
      return userOk && passwordOk
    }

    const login = Effect.fn("AdminSessions.login")(function*(username: string, password: string, clientAddress: string) {
      if (!config.adminLoginEnabled) return yield* new AdminLoginDisabled()
      const throttleKeys = [`ip:${clientAddress}`, `user:${username.toLowerCase()}`]
      if ((yield* repo.recentFailures(throttleKeys, THROTTLE_WINDOW_SECONDS)) >= MAX_FAILURES_PER_WINDOW) {
        return yield* new AdminLoginThrottled({ retryAfterSeconds: THROTTLE_WINDOW_SECONDS })
      }
      if (!credentialsMatch(username, password)) {
        yield* repo.recordFailure(throttleKeys).pipe(
          // A username PostgreSQL cannot store (NUL) cannot be the admin's either: still a plain 401.
          Effect.catchTag("InvalidInput", () => Effect.void)
        )
        yield* Effect.logWarning("admin login failed").pipe(Effect.annotateLogs("client", clientAddress))
        return yield* new InvalidAdminCredentials()
      }
      yield* repo.clearFailures(throttleKeys)
      const token = randomToken(32)
      yield* repo.insert(sha256(token), username, ADMIN_SESSION_TTL_SECONDS)
      return { token, username }
    })

    return {
      login,
      /** The username of a live session. */
      session: (token: string) =>
        token === "" ? Effect.succeed(undefined) : repo.findUsername(sha256(token)),
      logout: (token: string) => token === "" ? Effect.void : repo.remove(sha256(token))
    } as const
  }),
  dependencies: [AdminSessionsRepo.Default]
}) {}
