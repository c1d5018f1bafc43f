import { Effect, Schema } from "effect"
import { AppConfig } from "../Config.js"
import { TwilioConfig } from "./Config.js"
import { TwilioUnavailable } from "./Errors.js"
import type {
  AddParticipantOptions,
  CreateCallOptions,
  ListParticipantsOptions,
  SendMessageOptions,
  UpdateCallOptions,
  UpdateParticipantOptions
} from "./Options.js"
import { ParticipantPage, TwilioCall, TwilioMessage, TwilioParticipant, TwilioRecording } from "./Resources.js"
import { accountPath, encodeForm, segment, sendRequest, type TwilioCredentials } from "./Rest.js"

export type { TwilioCredentials } from "./Rest.js"

/** Twilio's largest page. */
const MAX_PAGE_SIZE = 1000

/** The fields we read of Twilio's answer; without them Twilio answered nonsense. */
const decoded = <A, I>(schema: Schema.Schema<A, I>, resource: string) => (value: unknown) =>
  Schema.decodeUnknown(schema)(value).pipe(
    Effect.mapError(() =>
      new TwilioUnavailable({ httpStatus: null, code: null, message: `Twilio answered with an unreadable ${resource}` })
    )
  )

/**
 * Twilio's REST API (2010-04-01): typed resources for calls, conference participants, messages
 * and recordings, over our own small client (src/Twilio/Rest.ts) so the process does not load
 * twilio-node. Requests go to TWILIO_API_BASE_URL, each bounded by TWILIO_REQUEST_TIMEOUT_MS;
 * failures are TwilioRejected or TwilioUnavailable.
 */
export class TwilioClient extends Effect.Service<TwilioClient>()("TwilioClient", {
  effect: Effect.gen(function*() {
    const { twilioApiBaseUrl } = yield* AppConfig
    const { requestTimeoutMs } = yield* TwilioConfig
    const send = sendRequest(twilioApiBaseUrl, requestTimeoutMs)

    /** `/2010-04-01/Accounts/{AccountSid}` followed by `parts`, each checked as one path segment. */
    const pathOf = (credentials: TwilioCredentials, template: (...segments: Array<string>) => string, ...ids: Array<[string, string]>) =>
      Effect.gen(function*() {
        const account = yield* accountPath(credentials)
        const segments: Array<string> = []
        for (const [value, what] of ids) segments.push(yield* segment(value, what))
        return `${account}${template(...segments)}`
      })

    const callPath = (credentials: TwilioCredentials, callSid: string) =>
      pathOf(credentials, (sid) => `/Calls/${sid}.json`, [callSid, "call SID"])
    const participantPath = (credentials: TwilioCredentials, conferenceSid: string, callSid: string) =>
      pathOf(credentials, (cf, ca) => `/Conferences/${cf}/Participants/${ca}.json`, [conferenceSid, "conference"], [
        callSid,
        "call SID"
      ])
    const participantsPath = (credentials: TwilioCredentials, conference: string) =>
      pathOf(credentials, (cf) => `/Conferences/${cf}/Participants.json`, [conference, "conference"])

    return {
      /** POST /Calls.json: an outbound call (Url or Twiml; status callbacks, AMD, recording as options). */
      createCall: Effect.fn("TwilioClient.createCall")(function*(credentials: TwilioCredentials, options: CreateCallOptions) {
        const path = yield* pathOf(credentials, () => "/Calls.json")
        return yield* send(credentials, { method: "POST", path, form: options }).pipe(Effect.flatMap(decoded(TwilioCall, "call")))
      }),
      /** POST /Calls/{sid}.json: new TwiML or Url for a live call, or end it (`status`). */
      updateCall: Effect.fn("TwilioClient.updateCall")(
        function*(credentials: TwilioCredentials, callSid: string, options: UpdateCallOptions) {
          const path = yield* callPath(credentials, callSid)
          return yield* send(credentials, { method: "POST", path, form: options }).pipe(Effect.flatMap(decoded(TwilioCall, "call")))
        }
      ),
      /** GET /Calls/{sid}.json */
      fetchCall: Effect.fn("TwilioClient.fetchCall")(function*(credentials: TwilioCredentials, callSid: string) {
        const path = yield* callPath(credentials, callSid)
        return yield* send(credentials, { method: "GET", path }).pipe(Effect.flatMap(decoded(TwilioCall, "call")))
      }),
      /** POST /Conferences/{sid or friendly name}/Participants.json: dials `to` into the conference. */
      addParticipant: Effect.fn("TwilioClient.addParticipant")(
        function*(credentials: TwilioCredentials, conference: string, options: AddParticipantOptions) {
          const path = yield* participantsPath(credentials, conference)
          return yield* send(credentials, { method: "POST", path, form: options }).pipe(
            Effect.flatMap(decoded(TwilioParticipant, "participant"))
          )
        }
      ),
      /** POST /Conferences/{sid}/Participants/{callSid}.json: mute, hold, announce. */
      updateParticipant: Effect.fn("TwilioClient.updateParticipant")(
        function*(credentials: TwilioCredentials, conferenceSid: string, callSid: string, options: UpdateParticipantOptions) {
          const path = yield* participantPath(credentials, conferenceSid, callSid)
          return yield* send(credentials, { method: "POST", path, form: options }).pipe(
            Effect.flatMap(decoded(TwilioParticipant, "participant"))
          )
        }
      ),
      /** DELETE /Conferences/{sid}/Participants/{callSid}.json: drops that leg from the conference. */
      removeParticipant: Effect.fn("TwilioClient.removeParticipant")(
        function*(credentials: TwilioCredentials, conferenceSid: string, callSid: string) {
          const path = yield* participantPath(credentials, conferenceSid, callSid)
          yield* send(credentials, { method: "DELETE", path })
        }
      ),
      /** GET /Conferences/{sid}/Participants.json, following `next_page_uri` up to `limit`. */
      listParticipants: Effect.fn("TwilioClient.listParticipants")(
        function*(credentials: TwilioCredentials, conferenceSid: string, options: ListParticipantsOptions = {}) {
          const { limit, pageSize, ...filters } = options
          const first = yield* participantsPath(credentials, conferenceSid)
          const account = yield* accountPath(credentials)
          const size = pageSize ?? (limit === undefined ? undefined : Math.min(Math.max(limit, 1), MAX_PAGE_SIZE))
          const query = encodeForm({ ...filters, pageSize: size }).toString()
          const participants: Array<TwilioParticipant> = []
          let path: string | null = query === "" ? first : `${first}?${query}`
          while (path !== null && (limit === undefined || participants.length < limit)) {
            const page: typeof ParticipantPage.Type = yield* send(credentials, { method: "GET", path }).pipe(
              Effect.flatMap(decoded(ParticipantPage, "participant list"))
            )
            participants.push(...page.participants)
            // Next pages stay under this account's path (the credentials go with them); an empty page ends the list.
            const next: string | null = page.nextPageUri
            path = page.participants.length > 0 && next !== null && next.startsWith(`${account}/`) ? next : null
          }
          return limit === undefined ? participants : participants.slice(0, limit)
        }
      ),
      /** POST /Messages.json: an SMS (or MMS with `mediaUrl`). */
      sendMessage: Effect.fn("TwilioClient.sendMessage")(function*(credentials: TwilioCredentials, options: SendMessageOptions) {
        const path = yield* pathOf(credentials, () => "/Messages.json")
        return yield* send(credentials, { method: "POST", path, form: options }).pipe(
          Effect.flatMap(decoded(TwilioMessage, "message"))
        )
      }),
      /** GET /Recordings/{sid}.json */
      fetchRecording: Effect.fn("TwilioClient.fetchRecording")(function*(credentials: TwilioCredentials, recordingSid: string) {
        const path = yield* pathOf(credentials, (sid) => `/Recordings/${sid}.json`, [recordingSid, "recording SID"])
        return yield* send(credentials, { method: "GET", path }).pipe(Effect.flatMap(decoded(TwilioRecording, "recording")))
      })
    } as const
  }),
  dependencies: [TwilioConfig.Default]
}) {}
