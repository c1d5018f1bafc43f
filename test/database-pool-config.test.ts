import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Layer, Redacted } from "effect"
import { AppConfig, describeConfigError } from "../src/Config.js"
import { DatabasePool, DatabaseUrl, SqlLive } from "../src/Database/Client.js"
import { runServiceUntilExit } from "./support/ServiceEntry.js"

/** Nothing listens here: the pool is built without connecting, and a refusal must come before any connection. */
const NOWHERE = "postgres://postgres@127.0.0.1:1/none"

const withEnv = (env: Record<string, string>) => Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

/** The `max` of the pool a replica builds under `env`. */
const poolMax = (env: Record<string, string>) =>
  Effect.map(DatabasePool, (pool) => pool.options.max).pipe(
    Effect.provide(SqlLive.pipe(
      Layer.provide(Layer.succeed(DatabaseUrl, Redacted.make(NOWHERE))),
      Layer.provide(AppConfig.Default),
      Layer.provide(withEnv(env))
    )),
    Effect.scoped
  )

const refusal = (env: Record<string, string>) =>
  Effect.either(AppConfig.pipe(Effect.provide(AppConfig.Default), Effect.provide(withEnv(env)))).pipe(
    Effect.map(Either.match({ onLeft: describeConfigError, onRight: () => "started" }))
  )

describe("DATABASE_POOL_MAX", () => {
  it.effect("sizes each replica's PostgreSQL pool: 10 by default, 1 to 100 when set", () =>
    Effect.gen(function*() {
      expect(yield* poolMax({})).toBe(10)
      expect(yield* poolMax({ DATABASE_POOL_MAX: "3" })).toBe(3)
      expect(yield* poolMax({ DATABASE_POOL_MAX: "100" })).toBe(100)
    }))

  it.effect("a value out of range or not a number is refused naming the variable", () =>
    Effect.gen(function*() {
      for (const value of ["0", "101", "-5"]) {
        expect(yield* refusal({ DATABASE_POOL_MAX: value })).toBe(
          "DATABASE_POOL_MAX must be a whole number from 1 to 100 (connections per replica)"
        )
      }
      expect(yield* refusal({ DATABASE_POOL_MAX: "ten" })).toMatch(/^DATABASE_POOL_MAX: .*ten/)
    }))

  it.live("the service refuses to start on one, with one line on stderr and exit code 1", () =>
    Effect.gen(function*() {
      // Had it started, it would serve on: killed after 60 s so the assertion below reports it.
      const result = yield* Effect.promise(() =>
        runServiceUntilExit({ PATH: process.env.PATH!, DATABASE_URL: NOWHERE, PORT: "59999", HOST: "127.0.0.1", DATABASE_POOL_MAX: "0" })
      )
      expect(result.code).toBe(1)
      expect(result.stderr.trim().split("\n"), result.stderr).toEqual([
        "stateset-voice cannot start: DATABASE_POOL_MAX must be a whole number from 1 to 100 (connections per replica)"
      ])
      expect(result.stdout, result.stdout).not.toContain("Listening")
    }), 120_000)
})
