/** TwiML documents the service answers Twilio with (pure builders; every value is escaped). */

const XML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&apos;" }

/** Characters XML 1.0 cannot carry at all: dropped rather than escaped. */
const UNCARRIABLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g
const SPECIAL = /[&<>"']/g
/** Anything `escapeXml` changes: most values (ids, numbers, the stream token) have none, and are returned after one scan. */
const NEEDS_ESCAPING = new RegExp(`${UNCARRIABLE.source}|${SPECIAL.source}`)

export const escapeXml = (text: string): string =>
  !NEEDS_ESCAPING.test(text) ? text : text.replace(UNCARRIABLE, "").replace(SPECIAL, (c) => XML_ESCAPES[c]!)

const document = (body: string) => `<?xml version="1.0" encoding="UTF-8"?><Response>${body}</Response>`

/** `http(s)://host/base` -> `ws(s)://host/base/media-stream`. */
export const mediaStreamUrl = (publicBaseUrl: string): string =>
  `${publicBaseUrl.replace(/^http(s?):\/\//i, (_m, secure: string) => `ws${secure}://`)}/media-stream`

/** Connects the call's audio to the media bridge; `parameters` arrive in the stream's `start` event. */
export const connectStream = (
  streamUrl: string,
  parameters: ReadonlyArray<readonly [name: string, value: string | null]>
): string => {
  const params = parameters
    .filter((entry): entry is readonly [string, string] => entry[1] !== null)
    .map(([name, value]) => `<Parameter name="${escapeXml(name)}" value="${escapeXml(value)}"/>`)
    .join("")
  return document(`<Connect><Stream url="${escapeXml(streamUrl)}">${params}</Stream></Connect>`)
}

/** Something to say before hanging up, so the caller never hears silence. */
export const sayAndHangUp = (message: string): string =>
  document(`<Say>${escapeXml(message)}</Say><Hangup/>`)

/** Transfers the live call to a person. */
export const dial = (announcement: string, number: string): string =>
  document(`<Say>${escapeXml(announcement)}</Say><Dial>${escapeXml(number)}</Dial>`)

export const UNKNOWN_NUMBER_MESSAGE =
  "We're sorry, this number is not configured to take calls right now. Please try again later. Goodbye."

export const UNAVAILABLE_MESSAGE =
  "We're sorry, we can't take your call right now because of a technical problem. Please try again later. Goodbye."
