import { Effect, Layer } from "effect"
import { randomBytes, randomUUID } from "node:crypto"

/**
 * Where new identifiers come from. Code asks this service instead of calling
 * `randomUUID()` itself, so a test can swap in `Ids.Sequential` and predict every id.
 */
export class Ids extends Effect.Service<Ids>()("Ids", {
  succeed: {
    /** A random (v4) UUID: row ids, room ids, replica ids. */
    uuid: Effect.sync((): string => randomUUID()),
    /** `uuid` as plain code, for the edge's per-request id (every request, no Effect for it). */
    nextUuid: (): string => randomUUID(),
    /** A Twilio-style SID: a two-letter prefix and 32 hex digits (e.g. `MZ…` for streams). */
    sid: (prefix: string) => Effect.sync(() => `${prefix}${randomBytes(16).toString("hex")}`)
  }
}) {
  /** Predictable ids for tests: `00000000-0000-4000-8000-000000000001`, then `…02`, and so on. */
  static readonly Sequential = Layer.sync(Ids, () => {
    let next = 0
    const counter = () => (++next).toString(16).padStart(12, "0")
    const nextUuid = () => `00000000-0000-4000-8000-${counter()}`
    return Ids.make({
      uuid: Effect.sync(nextUuid),
      nextUuid,
      sid: (prefix: string) => Effect.sync(() => `${prefix}${counter().padStart(32, "0")}`)
    })
  })
}
