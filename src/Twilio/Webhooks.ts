import { Effect } from "effect"
import { VersionResolution } from "../Agents/VersionResolution.js"
import { StreamTokens } from "../Auth/StreamTokens.js"
import { AppConfig } from "../Config.js"
import { CallLogWrites } from "../CallLogs/Writes.js"
import { CallRecords } from "../CallLogs/CallRecords.js"
import { InboundGate } from "../Limits/Inbound.js"
import { SetupLoad } from "../Limits/SetupLoad.js"
import { TenantCache } from "../TenantCache/TenantCache.js"
import { TranslationRooms } from "../Translation/Rooms.js"
import { makeStatusCallback } from "./StatusCallback.js"
import { makeStreamConnect } from "./StreamConnect.js"
import { TenantResolution } from "./TenantResolution.js"
import { mediaStreamUrl } from "./Twiml.js"
import { makeWebhookAnswers } from "./WebhookAnswers.js"

/**
 * Twilio's voice webhooks: the incoming and outbound call's answer (WebhookAnswers.ts, its set-up
 * in StreamConnect.ts), the SIP trunks' and the status callback (StatusCallback.ts).
 */
export class VoiceWebhooks extends Effect.Service<VoiceWebhooks>()("VoiceWebhooks", {
  effect: Effect.gen(function*() {
    const config = yield* AppConfig
    const resolution = yield* TenantResolution
    const connect = makeStreamConnect({
      streamUrl: mediaStreamUrl(config.publicBaseUrl),
      versions: yield* VersionResolution,
      tokens: yield* StreamTokens,
      callLogs: yield* CallLogWrites,
      gate: yield* InboundGate,
      tenants: yield* TenantCache,
      translationRooms: yield* TranslationRooms
    })
    const { answer, answerSip } = makeWebhookAnswers({ resolution, setupLoad: yield* SetupLoad, connect })
    const status = makeStatusCallback(resolution, yield* CallRecords)
    return { answer, answerSip, status } as const
  }),
  dependencies: [CallLogWrites.Default, InboundGate.Default, SetupLoad.Default]
}) {}
