import { Effect, Option } from "effect"
import { AppConfig } from "../Config.js"
import type { TenantConfig } from "../Tenants/Config.js"
import { twilioCredentials } from "../Twilio/Account.js"
import { TwilioClient } from "../Twilio/Client.js"

/**
 * A call ended from outside (a supervisor's `end`, after the agent's goodbye has played) is
 * hung up through Twilio's REST API: closing the media stream alone would leave Twilio to run
 * whatever TwiML follows `<Connect>`. Without credentials, or if Twilio fails, the stream
 * still closes; the failure is logged.
 */
export const hangUp = (tenant: TenantConfig, callSid: string | null) =>
  Effect.gen(function*() {
    if (callSid === null) return
    const credentials = twilioCredentials(tenant, yield* AppConfig)
    if (Option.isNone(credentials)) return
    const twilio = yield* TwilioClient
    yield* twilio.updateCall(credentials.value, callSid, { status: "completed" }).pipe(
      Effect.timeout("3 seconds"),
      Effect.catchAll((error) => Effect.logWarning("could not hang the call up through Twilio", String(error)))
    )
  })
