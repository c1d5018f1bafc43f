import { randomBytes } from "node:crypto"
import type * as http from "node:http"

/**
 * The resources of the fake Twilio REST API (2010-04-01), answered as Twilio does: JSON
 * resources with snake_case fields, `{code, message, more_info, status}` error bodies, list
 * pages with `next_page_uri`, 204 for a delete. Requests arrive form-encoded.
 */

type Form = Record<string, string | Array<string>>
type Resource = Record<string, unknown>

export interface FakeTwilioState {
  /** Destination numbers whose call creation fails with HTTP 500. */
  readonly failingNumbers: Set<string>
  /** Destination numbers Twilio refuses (HTTP 400, error 21211), as it does for unreachable prefixes. */
  readonly rejectedNumbers: Set<string>
  /** Calls created or fetched, by SID. */
  readonly calls: Map<string, Resource>
  /** Conferences by SID; a participant added by friendly name creates one. */
  readonly conferences: Map<string, { readonly friendlyName: string; readonly participants: Map<string, Resource> }>
  /** Messages sent, in order. */
  readonly messages: Array<Resource>
  /** Recordings the fake knows (tests add them), by SID. */
  readonly recordings: Map<string, Resource>
}

export interface RouteContext {
  readonly state: FakeTwilioState
  readonly res: http.ServerResponse
  readonly accountSid: string
  readonly params: ReadonlyArray<string>
  readonly form: Form
  readonly query: URLSearchParams
  readonly path: string
}

export interface Route {
  readonly method: string
  readonly pattern: RegExp
  readonly handle: (context: RouteContext) => void
}

const E164 = /^\+[1-9]\d{6,14}$/

export const sid = (prefix: string) => `${prefix}${randomBytes(16).toString("hex")}`

export const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json" })
  res.end(JSON.stringify(body))
}

export const twilioError = (res: http.ServerResponse, status: number, code: number, message: string) =>
  json(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status })

const notFound = ({ path, res }: RouteContext) =>
  twilioError(res, 404, 20404, `The requested resource ${path} was not found`)

const one = (form: Form, key: string): string | undefined => {
  const value = form[key]
  return Array.isArray(value) ? value[0] : value
}

const flag = (form: Form, key: string, fallback: boolean) => {
  const value = one(form, key)
  return value === undefined ? fallback : value === "true"
}

const accountUri = (accountSid: string, rest: string) => `/2010-04-01/Accounts/${accountSid}${rest}`

const createCall = (context: RouteContext) => {
  const { accountSid, form, res, state } = context
  const to = one(form, "To") ?? ""
  const from = one(form, "From") ?? ""
  if (state.failingNumbers.has(to)) return twilioError(res, 500, 20500, "Internal Server Error")
  if (!E164.test(to) || state.rejectedNumbers.has(to)) return twilioError(res, 400, 21211, `Invalid 'To' Phone Number: ${to}`)
  if (!E164.test(from)) return twilioError(res, 400, 21212, `Invalid 'From' Phone Number: ${from}`)
  if (form.Url === undefined && form.Twiml === undefined) return twilioError(res, 400, 21205, "Url parameter is required")
  const callSid = sid("CA")
  const call = {
    sid: callSid,
    account_sid: accountSid,
    api_version: "2010-04-01",
    to,
    from,
    status: "queued",
    direction: "outbound-api",
    answered_by: null,
    parent_call_sid: null,
    uri: accountUri(accountSid, `/Calls/${callSid}.json`)
  }
  state.calls.set(callSid, call)
  json(res, 201, call)
}

/** A call the fake did not place (an inbound one) is taken to exist, in progress. */
const knownCall = ({ accountSid, params, state }: RouteContext) => {
  const callSid = params[0]!
  const call = state.calls.get(callSid) ??
    { sid: callSid, account_sid: accountSid, status: "in-progress", uri: accountUri(accountSid, `/Calls/${callSid}.json`) }
  state.calls.set(callSid, call)
  return call
}

const updateCall = (context: RouteContext) => {
  const call = knownCall(context)
  const status = one(context.form, "Status")
  if (status !== undefined && status !== "canceled" && status !== "completed") {
    return twilioError(context.res, 400, 21218, `Invalid Status: ${status}`)
  }
  if (status !== undefined) call.status = status
  json(context.res, 200, call)
}

const fetchCall = (context: RouteContext) => {
  const call = context.state.calls.get(context.params[0]!)
  return call === undefined ? notFound(context) : json(context.res, 200, call)
}

const conference = (context: RouteContext, create: boolean) => {
  const { params, state } = context
  const key = params[0]!
  const existing = state.conferences.get(key) ??
    [...state.conferences.entries()].find(([, room]) => room.friendlyName === key)?.[1]
  if (existing !== undefined || !create) return existing
  const room = { friendlyName: key, participants: new Map<string, Resource>() }
  state.conferences.set(key.startsWith("CF") ? key : sid("CF"), room)
  return room
}

const conferenceSid = (context: RouteContext, room: object) =>
  [...context.state.conferences.entries()].find(([, candidate]) => candidate === room)![0]

const addParticipant = (context: RouteContext) => {
  const { accountSid, form, res } = context
  const to = one(form, "To") ?? ""
  if (one(form, "From") === undefined) return twilioError(res, 400, 21603, "A 'From' phone number is required.")
  if (!E164.test(to) && !to.startsWith("client:") && !to.startsWith("sip:")) {
    return twilioError(res, 400, 21211, `Invalid 'To' Phone Number: ${to}`)
  }
  const room = conference(context, true)!
  const cfSid = conferenceSid(context, room)
  const callSid = sid("CA")
  const participant = {
    account_sid: accountSid,
    call_sid: callSid,
    conference_sid: cfSid,
    label: one(form, "Label") ?? null,
    muted: flag(form, "Muted", false),
    hold: false,
    coaching: false,
    status: "queued",
    uri: accountUri(accountSid, `/Conferences/${cfSid}/Participants/${callSid}.json`)
  }
  room.participants.set(callSid, participant)
  json(res, 201, participant)
}

const participant = (context: RouteContext) =>
  conference(context, false)?.participants.get(context.params[1]!)

const updateParticipant = (context: RouteContext) => {
  const found = participant(context)
  if (found === undefined) return notFound(context)
  found.muted = flag(context.form, "Muted", found.muted === true)
  found.hold = flag(context.form, "Hold", found.hold === true)
  json(context.res, 200, found)
}

const removeParticipant = (context: RouteContext) => {
  if (participant(context) === undefined) return notFound(context)
  conference(context, false)!.participants.delete(context.params[1]!)
  context.res.writeHead(204).end()
}

/** One page of participants; `next_page_uri` leads to the next, as Twilio's paging does. */
const listParticipants = (context: RouteContext) => {
  const { path, query, res } = context
  const room = conference(context, false)
  if (room === undefined) return notFound(context)
  const pageSize = Number(query.get("PageSize") ?? 50)
  const page = Number(query.get("Page") ?? 0)
  // Muted / Hold filter the list, as Twilio's do.
  const wanted = (resource: Resource, key: "muted" | "hold", param: string) =>
    query.get(param) === null || resource[key] === (query.get(param) === "true")
  const all = [...room.participants.values()].filter((p) => wanted(p, "muted", "Muted") && wanted(p, "hold", "Hold"))
  const more = (page + 1) * pageSize < all.length
  json(res, 200, {
    participants: all.slice(page * pageSize, (page + 1) * pageSize),
    page,
    page_size: pageSize,
    start: page * pageSize,
    first_page_uri: `${path}?PageSize=${pageSize}&Page=0`,
    next_page_uri: more ? `${path}?PageSize=${pageSize}&Page=${page + 1}` : null,
    previous_page_uri: null,
    uri: `${path}?PageSize=${pageSize}&Page=${page}`
  })
}

const sendMessage = (context: RouteContext) => {
  const { accountSid, form, res, state } = context
  const to = one(form, "To")
  if (to === undefined) return twilioError(res, 400, 21604, "A 'To' phone number is required.")
  if (!E164.test(to)) return twilioError(res, 400, 21211, `Invalid 'To' Phone Number: ${to}`)
  if (one(form, "From") === undefined && one(form, "MessagingServiceSid") === undefined) {
    return twilioError(res, 400, 21603, "A 'From' phone number is required.")
  }
  if (one(form, "Body") === undefined && form.MediaUrl === undefined) {
    return twilioError(res, 400, 21602, "Message body is required.")
  }
  const messageSid = sid("SM")
  const message = {
    sid: messageSid,
    account_sid: accountSid,
    to,
    from: one(form, "From") ?? null,
    body: one(form, "Body") ?? "",
    status: "queued",
    direction: "outbound-api",
    num_segments: "1",
    error_code: null,
    error_message: null,
    uri: accountUri(accountSid, `/Messages/${messageSid}.json`)
  }
  state.messages.push(message)
  json(res, 201, message)
}

const fetchRecording = (context: RouteContext) => {
  const recording = context.state.recordings.get(context.params[0]!)
  return recording === undefined ? notFound(context) : json(context.res, 200, recording)
}

const SID = "([^/]+)"

/** Paths relative to `/2010-04-01/Accounts/{AccountSid}`. */
export const routes: ReadonlyArray<Route> = [
  { method: "POST", pattern: /^\/Calls\.json$/, handle: createCall },
  { method: "POST", pattern: new RegExp(`^/Calls/${SID}\\.json$`), handle: updateCall },
  { method: "GET", pattern: new RegExp(`^/Calls/${SID}\\.json$`), handle: fetchCall },
  { method: "POST", pattern: new RegExp(`^/Conferences/${SID}/Participants\\.json$`), handle: addParticipant },
  { method: "GET", pattern: new RegExp(`^/Conferences/${SID}/Participants\\.json$`), handle: listParticipants },
  { method: "POST", pattern: new RegExp(`^/Conferences/${SID}/Participants/${SID}\\.json$`), handle: updateParticipant },
  { method: "DELETE", pattern: new RegExp(`^/Conferences/${SID}/Participants/${SID}\\.json$`), handle: removeParticipant },
  { method: "POST", pattern: /^\/Messages\.json$/, handle: sendMessage },
  { method: "GET", pattern: new RegExp(`^/Recordings/${SID}\\.json$`), handle: fetchRecording }
]
