import { Effect } from "effect"
import { Agents } from "../Agents/Agents.js"
import { StreamTokens } from "../Auth/StreamTokens.js"
import { AppConfig } from "../Config.js"
import { Ids } from "../Ids.js"
import { mediaStreamUrl } from "../Twilio/Twiml.js"

/**
 * A browser test call to an agent version: the same single-use stream token Twilio gets in
 * its TwiML, for a call stored with direction `web` (listed as inbound: CallLogs/WireDirection.ts),
 * which the media path records like any other.
 */
export class TestCalls extends Effect.Service<TestCalls>()("TestCalls", {
  effect: Effect.gen(function*() {
    const agents = yield* Agents
    const tokens = yield* StreamTokens
    const ids = yield* Ids
    const config = yield* AppConfig

    const start = Effect.fn("TestCalls.start")(function*(tenantId: string, versionId: string, actor: string) {
      yield* agents.tenantExists(tenantId)
      const version = yield* agents.version(tenantId, versionId)
      const callSid = yield* ids.sid("WB")
      const streamSid = yield* ids.sid("MZ")
      const token = yield* tokens.mint({
        tenantId,
        callSid,
        agentVersionId: version.id,
        direction: "web",
        from: `console:${actor}`.slice(0, 64),
        to: null
      })
      return {
        callSid,
        streamSid,
        token,
        streamUrl: mediaStreamUrl(config.publicBaseUrl),
        expiresInSeconds: config.streamTokenTtlSecs
      }
    })

    return { start } as const
  })
}) {}
