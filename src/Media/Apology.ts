import { Effect, Option } from "effect"
import { twilioCredentials } from "../Twilio/Account.js"
import { TwilioClient } from "../Twilio/Client.js"
import { sayAndHangUp, UNAVAILABLE_MESSAGE } from "../Twilio/Twiml.js"
import { AppConfig } from "../Config.js"
import type { TenantConfig } from "../Tenants/Config.js"

/**
 * With OpenAI gone there is no voice to apologise with on the stream, so the call gets new
 * TwiML through Twilio's REST API: Twilio says the apology and hangs up (which also ends
 * the stream). Without Twilio credentials, or if Twilio refuses, the bridge has already
 * cleared queued audio and the stream simply closes.
 */
export const apologise = (tenant: TenantConfig, callSid: string | null) =>
  Effect.gen(function*() {
    if (callSid === null) return
    const credentials = twilioCredentials(tenant, yield* AppConfig)
    if (Option.isNone(credentials)) return
    const twilio = yield* TwilioClient
    yield* twilio.updateCall(credentials.value, callSid, { twiml: sayAndHangUp(UNAVAILABLE_MESSAGE) }).pipe(
      Effect.timeout("5 seconds"),
      Effect.catchAll((error) => Effect.logWarning("could not play the apology", String(error)))
    )
  })
