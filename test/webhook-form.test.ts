import * as UrlParams from "@effect/platform/UrlParams"
import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { TwilioVoiceWebhookForm } from "../src/Twilio/Api.js"
import { webhookForm } from "../src/Twilio/HotWebhook.js"

/**
 * The webhook fast path reads the form's fields itself (src/Twilio/HotWebhook.ts `webhookForm`);
 * HttpApi decodes a `UrlParams` body as `toRecord(fromInput(...))` through the endpoint's schema.
 * Both must give the same fields (the signature is checked over all of them) and refuse the same
 * bodies (HttpApi then judges those), key order included.
 */
const decodeForm = Schema.decodeUnknownEither(TwilioVoiceWebhookForm)
const asHttpApi = (text: string) => {
  const decoded = decodeForm(UrlParams.toRecord(UrlParams.fromInput(new URLSearchParams(text))))
  return Either.isLeft(decoded) ? undefined : decoded.right
}

const twilio = new URLSearchParams({
  AccountSid: `AC${"1".repeat(32)}`,
  ApiVersion: "2010-04-01",
  CallSid: `CA${"2".repeat(32)}`,
  CallStatus: "ringing",
  Called: "+15550002222",
  CalledCity: "",
  Direction: "inbound",
  From: "+15550001111",
  To: "+15550002222"
}).toString()

const bodies: Record<string, string> = {
  "Twilio's form": twilio,
  empty: "",
  "encoded values": "From=%2B1555%200001&To=+15550002222&Caller=J%C3%BCrgen",
  "a field named __proto__": `${twilio}&__proto__=x`,
  "a field named constructor": `${twilio}&constructor=x&toString=y`,
  "array-looking names": `${twilio}&a[b]=1&c[]=2`,
  "an empty name": `${twilio}&=x`,
  "a name without a value": `${twilio}&Flag`,
  "empty pairs": `&&${twilio}&&`,
  "index-like names in any order": `${twilio}&2=b&1=a&0=z`,
  "a repeated schema field": `${twilio}&CallSid=CA3`,
  "a repeated other field": `${twilio}&Digits=1&Digits=2`,
  "a repeated empty value": `${twilio}&X=&X=`
}

describe("webhook form", () => {
  it("gives what HttpApi's decoder gives for every body, field order included", () => {
    for (const [name, body] of Object.entries(bodies)) {
      const ours = webhookForm(body)
      const theirs = asHttpApi(body)
      expect(ours === undefined ? undefined : Object.entries(ours), name).toEqual(
        theirs === undefined ? undefined : Object.entries(theirs)
      )
      expect(ours === undefined ? undefined : Object.getPrototypeOf(ours), name).toBe(
        theirs === undefined ? undefined : Object.getPrototypeOf(theirs)
      )
    }
  })

  it("refuses a body with a repeated field, as the schema does for the array HttpApi makes of it", () => {
    expect(webhookForm(`${twilio}&Digits=1&Digits=2`)).toBeUndefined()
    expect(webhookForm(`${twilio}&CallSid=CA3`)).toBeUndefined()
    expect(webhookForm(twilio)).toMatchObject({ CallSid: `CA${"2".repeat(32)}`, From: "+15550001111" })
  })
})
