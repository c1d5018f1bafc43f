import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { eventually } from "./Eventually.js"
import { FakeOpenAI, withFakeOpenAI } from "./FakeOpenAIRealtime.js"
import { startFakeTwilio } from "./FakeTwilio.js"
import { accountSid, agentWithRoute, FakeTwilioServer, putTenant, twilioWebhook } from "./FakeTwilioServer.js"
import { parseXml, streamParameters } from "./FakeTwilioXml.js"
import { untilHeld } from "./HeldCalls.js"
import { makeTestServer } from "./TestServer.js"
import { mediaStreamUrl, TwilioMediaClient } from "./TwilioMediaClient.js"

/** Escalation suites: tenant `esc` (Twilio account, escalation number, a webhook endpoint) and its agent on NUMBER. */
export const SID = accountSid("escalation")
export const TOKEN = "escalation-twilio-auth-token"
export const NUMBER = "+15550008000"
export const DESK = "+15550008777"
export const CALLER = "+15557650001"
export const auth = { authorization: "Bearer esc-bearer-token-0123456789" }
export const promise = <A>(run: () => Promise<A>) => Effect.promise(run)

export const Suite = withFakeOpenAI((openai) =>
  Layer.unwrapScoped(Effect.map(startFakeTwilio, (twilio) =>
    Layer.effectDiscard(Effect.gen(function*() {
      twilio.accounts.set(SID, TOKEN)
      yield* putTenant("esc", {
        twilio: { account_sid: SID, auth_token: TOKEN },
        // Events are enqueued only for a tenant with an endpoint (this one is never reached).
        webhook_url: "https://hooks.invalid/esc",
        escalation_number: DESK
      })
      yield* agentWithRoute("esc", { phoneNumber: NUMBER, greeting: "Thanks for calling!" })
    })).pipe(Layer.provideMerge(Layer.merge(
      makeTestServer({ OPENAI_BASE_URL: openai.url, OPENAI_API_KEY: "sk-esc", TWILIO_API_BASE_URL: twilio.baseUrl }),
      Layer.succeed(FakeTwilioServer, twilio)
    )))))
)

/** A call as Twilio places it: the voice webhook, then the media stream with the TwiML's parameters. */
export const connectCall = (callSid: string, parameters: Record<string, string>, streamSid: string) =>
  Effect.gen(function*() {
    const openai = yield* FakeOpenAI
    const before = openai.connections.length
    const url = yield* mediaStreamUrl()
    const client = yield* promise(() => TwilioMediaClient.open(url))
    client.connected()
    client.start({ streamSid, callSid, customParameters: parameters })
    const upstream = yield* promise(() => openai.connection(before))
    // Connected, even spoken to, is not held yet (the upstream is used while the token is spent).
    yield* promise(() => upstream.spokenTo())
    yield* untilHeld("esc", streamSid)
    return { client, upstream }
  })

export const incoming = (callSid: string) =>
  Effect.gen(function*() {
    const webhook = yield* twilioWebhook("/api/v1/incoming-call", {
      CallSid: callSid, AccountSid: SID, From: CALLER, To: NUMBER, CallStatus: "ringing"
    }, { authToken: TOKEN })
    expect(webhook.status).toBe(200)
    return streamParameters(parseXml(webhook.text))
  })

/** The tool's result reached the model: the agent is leaving for the transfer. */
export const toolAnswered = (upstream: { eventsOf: (type: string) => Array<any> }) =>
  eventually(
    Effect.sync(() => upstream.eventsOf("conversation.item.create").filter((e) => e.item?.type === "function_call_output")),
    (outputs) => outputs.length > 0
  )

export const escalatedEvents = (callSid: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ payload: any }>`select payload from webhook_outbox
      where tenant_id = 'esc' and event = 'voice.call.escalated' and payload->'data'->>'call_sid' = ${callSid}`.pipe(
      Effect.orDie
    ))

export const logRow = (callSid: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<any>`select status, escalated, end_reason, media_status, transcript, stream_sid from call_logs
      where tenant_id = 'esc' and call_sid = ${callSid}`.pipe(Effect.orDie, Effect.map((rows) => rows[0])))

