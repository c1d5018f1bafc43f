import { escapeXml } from "../Twilio/Twiml.js"

/** TwiML of transfers (pure builders; every value escaped). */

const document = (body: string) => `<?xml version="1.0" encoding="UTF-8"?><Response>${body}</Response>`

const attributes = (values: Record<string, string | number | boolean>) =>
  Object.entries(values).map(([name, value]) => ` ${name}="${escapeXml(String(value))}"`).join("")

/**
 * A cold transfer: the announcement, then the person's number. `action` is asked what next
 * once the dial ends (unanswered: back to the agent); `answeredUrl` runs on the person's leg
 * when they pick up (the moment the call becomes an escalation).
 */
export const dialWithFallback = (options: {
  readonly announcement: string
  readonly number: string
  readonly action: string
  readonly answeredUrl: string
  readonly timeoutSeconds: number
  readonly callerId: string | null
}): string =>
  document(
    `<Say>${escapeXml(options.announcement)}</Say>` +
      `<Dial${
        attributes({
          action: options.action,
          method: "POST",
          timeout: options.timeoutSeconds,
          ...(options.callerId === null ? {} : { callerId: options.callerId })
        })
      }><Number${attributes({ url: options.answeredUrl, method: "POST" })}>${escapeXml(options.number)}</Number></Dial>`
  )

/** Joins the call to a conference; `endConferenceOnExit` for the legs whose leaving ends it. */
export const joinConference = (name: string, options: { readonly say?: string; readonly startOnEnter: boolean }): string =>
  document(
    (options.say === undefined ? "" : `<Say>${escapeXml(options.say)}</Say>`) +
      `<Dial><Conference${
        attributes({ startConferenceOnEnter: options.startOnEnter, endConferenceOnExit: true, beep: false })
      }>${escapeXml(name)}</Conference></Dial>`
  )

/** The person's leg of a warm transfer: hears the summary, then asks `next` to be joined. */
export const summaryThenRedirect = (summary: string, next: string): string =>
  document(`<Say>${escapeXml(summary)}</Say><Redirect method="POST">${escapeXml(next)}</Redirect>`)

/** Nothing more to do on this leg (Twilio goes on with the rest of the call's TwiML). */
export const emptyResponse = (): string => document("")

/** The dialled leg ended after an answered transfer: the caller's part is over too. */
export const hangUp = (): string => document("<Hangup/>")
