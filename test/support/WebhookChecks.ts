import { expect } from "@effect/vitest"
import { type Duration, Effect, TestClock } from "effect"
import { Webhook } from "standardwebhooks"
import { eventually } from "./Eventually.js"
import type { Received } from "./FakeWebhookReceiver.js"

/** A Standard Webhooks secret (`whsec_` + base64 key) derived from `seed`. */
export const secret = (seed: string) => `whsec_${Buffer.from(`${seed}-webhook-signing-key-0123456789`).toString("base64")}`

/**
 * Moves the shared TestClock in steps, at most `maxSteps`, until `check` holds (the worker polls
 * every second of it). Each step's real work (a delivery over HTTP) gets a short wall-time
 * wait; after the last step it gets a generous one, so a loaded box is not a failure while
 * the simulated-time bound stays `maxSteps` steps.
 */
export const advanceUntil = (check: () => boolean, step: Duration.DurationInput, maxSteps: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < maxSteps && !check(); i++) {
      yield* TestClock.adjust(step)
      yield* eventually(Effect.sync(check), (ok) => ok, i === maxSteps - 1 ? 10_000 : 150)
    }
    expect(check()).toBe(true)
  })

/** The Standard Webhooks signature the independent library computes for this request. */
export const expectedSignature = (key: string, received: Received) =>
  new Webhook(key).sign(received.headers["webhook-id"]!, new Date(Number(received.headers["webhook-timestamp"]) * 1000), received.body)

/**
 * standardwebhooks' own verification, as a receiver would run it when the message arrived:
 * the suite's TestClock may be far from the wall clock, and the verifier checks the
 * timestamp against `Date.now()`, so that is pinned to the send time for the call.
 */
export const verify = (key: string, received: Received): unknown => {
  const wallClock = Date.now
  Date.now = () => Number(received.headers["webhook-timestamp"]) * 1000
  try {
    return new Webhook(key).verify(received.body, received.headers)
  } finally {
    Date.now = wallClock
  }
}
