import { Effect } from "effect"
import twilio from "twilio"
import type { FakeTwilio, TwilioRequest } from "./FakeTwilio.js"
import { PUBLIC_BASE_URL } from "./FakeTwilioServer.js"
import { findAll, parseXml } from "./FakeTwilioXml.js"
import { request } from "./TestServer.js"

/**
 * Twilio's side of the callbacks a call's TwiML or a created call asks for: a POST to the
 * absolute URL we gave Twilio, form-encoded, signed (X-Twilio-Signature, twilio-node's own
 * signer) with the account's auth token, as Twilio does when a `<Dial>` ends (its `action`),
 * when the dialled person answers (`<Number url>`, a created call's `Url`), at a `<Redirect>`,
 * or for a call's `StatusCallback`.
 */
export const twilioCallback = (url: string, authToken: string, params: Record<string, string>) => {
  if (!url.startsWith(PUBLIC_BASE_URL)) return Effect.dieMessage(`callback URL outside the service: ${url}`)
  return request("POST", url.slice(PUBLIC_BASE_URL.length), {
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": twilio.getExpectedTwilioSignature(authToken, url, params)
    },
    body: new URLSearchParams(params).toString()
  })
}

/** The last TwiML the fake was given for `callSid` (POST /Calls/{sid}.json with Twiml). */
export const lastTwimlOf = (fake: FakeTwilio, callSid: string) => {
  const update = fake.requests.filter((r) => r.method === "POST" && r.path.endsWith(`/Calls/${callSid}.json`) && r.form.Twiml !== undefined)
    .at(-1)
  return update === undefined ? undefined : parseXml(String(update.form.Twiml))
}

/** The calls the service created through the fake (POST /Calls.json), in order. */
export const createdCalls = (fake: FakeTwilio): Array<TwilioRequest> =>
  fake.requests.filter((r) => r.method === "POST" && /\/Calls\.json$/.test(r.path))

/** The participants the service added (POST /Conferences/{name}/Participants.json), in order. */
export const addedParticipants = (fake: FakeTwilio): Array<TwilioRequest> =>
  fake.requests.filter((r) => r.method === "POST" && /\/Conferences\/[^/]+\/Participants\.json$/.test(r.path))

/**
 * A `<Dial>` of the call's current TwiML ends: `answered` first runs the `<Number url>` on the
 * person's leg (when the person picks up), then Twilio posts the Dial's `action` with
 * DialCallStatus. Answers the action's response (the caller's next TwiML).
 */
export const dialOutcome = (
  fake: FakeTwilio,
  callSid: string,
  authToken: string,
  outcome: { readonly dialCallStatus: "completed" | "answered" | "no-answer" | "busy" | "failed" | "canceled"; readonly answered?: boolean },
  call: { readonly from: string; readonly to: string; readonly accountSid: string }
) =>
  Effect.gen(function*() {
    const twiml = lastTwimlOf(fake, callSid)
    if (twiml === undefined) return yield* Effect.dieMessage(`no TwiML was given for ${callSid}`)
    const dial = findAll(twiml, "Dial")[0]
    const action = dial?.attributes.action
    if (action === undefined) return yield* Effect.dieMessage("the Dial has no action URL")
    const base = { AccountSid: call.accountSid, CallSid: callSid, From: call.from, To: call.to, Direction: "inbound" }
    if (outcome.answered === true) {
      const numberUrl = findAll(dial!, "Number")[0]?.attributes.url
      if (numberUrl === undefined) return yield* Effect.dieMessage("the Number has no url")
      const leg = { ...base, CallSid: `CA${"7".repeat(32)}`, ParentCallSid: callSid, Direction: "outbound-dial", CallStatus: "in-progress" }
      const answered = yield* twilioCallback(numberUrl, authToken, leg)
      if (answered.status !== 200) return yield* Effect.dieMessage(`answered URL: ${answered.status} ${answered.text}`)
    }
    return yield* twilioCallback(action, authToken, {
      ...base,
      CallStatus: "in-progress",
      DialCallStatus: outcome.dialCallStatus,
      ...(outcome.answered === true ? { DialCallSid: `CA${"7".repeat(32)}`, DialCallDuration: "42" } : {})
    })
  })
