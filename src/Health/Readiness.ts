import * as SqlClient from "@effect/sql/SqlClient"
import { Clock, DateTime, Effect, Option } from "effect"
import { AppConfig } from "../Config.js"
import { Migrations } from "../Database/Migrations.js"
import { Notifications } from "../Database/Notifications.js"
import { ReadinessCheck, ReadinessResponse } from "./Api.js"
import { Lifecycle } from "./Lifecycle.js"
import { ServiceInfo } from "./ServiceInfo.js"

/**
 * Readiness: the database answers, the schema is migrated, cache invalidations are being
 * received, and we are not draining.
 * Twilio and OpenAI configuration is reported but does not gate traffic: a service
 * without them still serves its REST API.
 */
export class Readiness extends Effect.Service<Readiness>()("Readiness", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const migrations = yield* Migrations
    const lifecycle = yield* Lifecycle
    const notifications = yield* Notifications
    const info = yield* ServiceInfo
    const config = yield* AppConfig

    const database = Effect.gen(function*() {
      const started = yield* Clock.currentTimeMillis
      const reachable = yield* sql`select 1`.pipe(Effect.timeout("2 seconds"), Effect.isSuccess)
      const latency = (yield* Clock.currentTimeMillis) - started
      return new ReadinessCheck({
        name: "database",
        ready: reachable,
        status: reachable ? "connected" : "unreachable",
        details: reachable ? { latency_ms: latency } : { error: "database did not answer" }
      })
    })

    const configured = (name: string, present: boolean) =>
      new ReadinessCheck({ name, ready: true, status: present ? "configured" : "not_configured", details: {} })

    const check = Effect.gen(function*() {
      const applied = yield* migrations.isApplied
      const draining = yield* lifecycle.isDraining
      const checks = [
        yield* database,
        new ReadinessCheck({ name: "migrations", ready: applied, status: applied ? "applied" : "pending", details: {} }),
        // Without LISTEN this replica would serve caches other replicas have invalidated.
        yield* Effect.map(notifications.isListening, (listening) =>
          new ReadinessCheck({
            name: "notifications",
            ready: listening,
            status: listening ? "listening" : "reconnecting",
            details: {}
          })),
        configured("twilio", Option.isSome(config.twilioAccountSid) && Option.isSome(config.twilioAuthToken)),
        configured("openai", Option.isSome(config.openaiApiKey))
      ]
      const ready = !draining && checks.every((c) => c.ready)
      return new ReadinessResponse({
        ready,
        status: draining ? "draining" : ready ? "ready" : applied ? "not_ready" : "starting",
        checks,
        timestamp: DateTime.formatIso(yield* DateTime.now),
        uptime_seconds: yield* info.uptimeSeconds,
        version: info.version
      })
    }).pipe(Effect.withSpan("Readiness.check"))

    return { check } as const
  })
}) {}
