import { Duration, Effect, Schema } from "effect"
import twilio from "twilio"
import type { CallContextUpdateOptions, CallListInstanceCreateOptions } from "twilio/lib/rest/api/v2010/account/call"
import type {
  ParticipantContextUpdateOptions,
  ParticipantListInstanceCreateOptions,
  ParticipantListInstanceOptions
} from "twilio/lib/rest/api/v2010/account/conference/participant"
import type { MessageListInstanceCreateOptions } from "twilio/lib/rest/api/v2010/account/message"
import type RequestClient from "twilio/lib/base/RequestClient"
import { AppConfig } from "../Config.js"
import { TwilioConfig } from "./Config.js"
import { type TwilioFailure, TwilioRejected, TwilioUnavailable } from "./Errors.js"
import { TwilioCall, TwilioMessage, TwilioParticipant, TwilioRecording } from "./Resources.js"
import { forwardingHttpClient, TransportFailure } from "./Transport.js"

export interface TwilioCredentials {
  readonly accountSid: string
  readonly authToken: string
}

/** Clients kept (one per account SID); a client is a few KB and builds its resources lazily. */
const MAX_CACHED_CLIENTS = 500

/** What twilio-node rejects with on an HTTP error: RestException, or TwilioServiceException (RFC 9457). */
const TwilioException = Schema.Struct({
  status: Schema.Number,
  code: Schema.optional(Schema.NullOr(Schema.Number)),
  message: Schema.optional(Schema.String),
  detail: Schema.optional(Schema.NullOr(Schema.String)),
  moreInfo: Schema.optional(Schema.NullOr(Schema.String))
})
const asTwilioException = Schema.decodeUnknownOption(TwilioException)

/** Sorts whatever a twilio-node promise rejected with into our two failures. */
const classify = (cause: unknown): TwilioFailure => {
  if (cause instanceof TransportFailure) {
    return new TwilioUnavailable({
      httpStatus: null,
      code: null,
      message: `Twilio is unreachable: ${cause.detail}`,
      outcomeUnknown: cause.timedOut
    })
  }
  const exception = asTwilioException(cause)
  if (exception._tag === "Some") {
    const { code, detail, message, moreInfo, status } = exception.value
    const text = detail ?? message ?? `Twilio answered HTTP ${status}`
    // 0 is twilio-node's placeholder for "no code"; 429 and 5xx are worth retrying.
    const twilioCode = code === undefined || code === null || code === 0 ? null : code
    return status >= 500 || status === 429
      ? new TwilioUnavailable({ httpStatus: status, code: twilioCode, message: text })
      : new TwilioRejected({ httpStatus: status, code: twilioCode, message: text, moreInfo: moreInfo ?? null })
  }
  if (cause instanceof SyntaxError) {
    return new TwilioUnavailable({ httpStatus: null, code: null, message: "Twilio answered something unreadable" })
  }
  // twilio-node refused to build the request (a missing parameter, an invalid SID).
  const message = cause instanceof Error ? cause.message : String(cause)
  return new TwilioRejected({ httpStatus: 400, code: null, message: `request not sent: ${message}`, moreInfo: null })
}

/** The fields we read of what twilio-node resolved with; without them Twilio answered nonsense. */
const decoded = <A, I>(schema: Schema.Schema<A, I>, resource: string) =>
<E, R>(effect: Effect.Effect<unknown, E, R>) =>
  Effect.flatMap(effect, (value) =>
    Schema.decodeUnknown(schema)(value).pipe(
      Effect.mapError(() =>
        new TwilioUnavailable({ httpStatus: null, code: null, message: `Twilio answered with an unreadable ${resource}` })
      )
    ))

/**
 * Twilio's REST API through twilio-node: typed resources for calls, conference participants,
 * messages and recordings. Requests go through our `httpClient` to TWILIO_API_BASE_URL, each
 * bounded by TWILIO_REQUEST_TIMEOUT_MS; failures are TwilioRejected or TwilioUnavailable.
 */
export class TwilioClient extends Effect.Service<TwilioClient>()("TwilioClient", {
  effect: Effect.gen(function*() {
    const { twilioApiBaseUrl } = yield* AppConfig
    const { requestTimeoutMs } = yield* TwilioConfig
    // twilio-node types the option as its own RequestClient class, but only ever calls `request`.
    const httpClient = forwardingHttpClient(twilioApiBaseUrl, requestTimeoutMs) as unknown as RequestClient
    const clients = new Map<string, { readonly authToken: string; readonly client: twilio.Twilio }>()

    const newClient = (credentials: TwilioCredentials) =>
      // logLevel set so TWILIO_LOG_LEVEL in the environment cannot make it print requests.
      twilio(credentials.accountSid, credentials.authToken, { httpClient, logLevel: "info" })

    // Load the v2010 resource modules now: twilio-node requires them synchronously on first
    // use, which would stall the event loop (and every live call's audio) at the first request.
    const warm = newClient({ accountSid: `AC${"0".repeat(32)}`, authToken: "unused" })
    yield* Effect.sync(() => [warm.calls, warm.conferences, warm.messages, warm.recordings])

    /** The account's client, rebuilt when its token changes; least recently used evicted first. */
    const clientFor = (credentials: TwilioCredentials) =>
      Effect.suspend(() => {
        const cached = clients.get(credentials.accountSid)
        clients.delete(credentials.accountSid)
        if (cached !== undefined && cached.authToken === credentials.authToken) {
          clients.set(credentials.accountSid, cached)
          return Effect.succeed(cached.client)
        }
        if (!credentials.accountSid.startsWith("AC")) {
          return Effect.fail(
            new TwilioRejected({ httpStatus: 401, code: null, message: "Twilio account SID must start with AC", moreInfo: null })
          )
        }
        const client = newClient(credentials)
        clients.set(credentials.accountSid, { authToken: credentials.authToken, client })
        if (clients.size > MAX_CACHED_CLIENTS) clients.delete(clients.keys().next().value!)
        return Effect.succeed(client)
      })

    /** One request: timed out like the transport, so a typed failure always arrives in time. */
    const send = <A>(credentials: TwilioCredentials, request: (client: twilio.Twilio) => Promise<A>) =>
      clientFor(credentials).pipe(
        Effect.flatMap((client) => Effect.tryPromise({ try: () => request(client), catch: classify })),
        Effect.timeoutFail({
          duration: Duration.millis(requestTimeoutMs),
          onTimeout: () =>
            new TwilioUnavailable({ httpStatus: null, code: null, message: "Twilio is unreachable: no answer in time", outcomeUnknown: true })
        })
      )

    return {
      /** POST /Calls.json: an outbound call (Url or Twiml; status callbacks, AMD, recording as options). */
      createCall: Effect.fn("TwilioClient.createCall")(
        (credentials: TwilioCredentials, options: CallListInstanceCreateOptions) =>
          send(credentials, (client) => client.calls.create(options)).pipe(decoded(TwilioCall, "call"))
      ),
      /** POST /Calls/{sid}.json: new TwiML or Url for a live call, or end it (`status`). */
      updateCall: Effect.fn("TwilioClient.updateCall")(
        (credentials: TwilioCredentials, callSid: string, options: CallContextUpdateOptions) =>
          send(credentials, (client) => client.calls(callSid).update(options)).pipe(decoded(TwilioCall, "call"))
      ),
      /** GET /Calls/{sid}.json */
      fetchCall: Effect.fn("TwilioClient.fetchCall")((credentials: TwilioCredentials, callSid: string) =>
        send(credentials, (client) => client.calls(callSid).fetch()).pipe(decoded(TwilioCall, "call"))
      ),
      /** POST /Conferences/{sid or friendly name}/Participants.json: dials `to` into the conference. */
      addParticipant: Effect.fn("TwilioClient.addParticipant")(
        (credentials: TwilioCredentials, conference: string, options: ParticipantListInstanceCreateOptions) =>
          send(credentials, (client) => client.conferences(conference).participants.create(options)).pipe(
            decoded(TwilioParticipant, "participant")
          )
      ),
      /** POST /Conferences/{sid}/Participants/{callSid}.json: mute, hold, announce. */
      updateParticipant: Effect.fn("TwilioClient.updateParticipant")(
        (credentials: TwilioCredentials, conferenceSid: string, callSid: string, options: ParticipantContextUpdateOptions) =>
          send(credentials, (client) => client.conferences(conferenceSid).participants(callSid).update(options)).pipe(
            decoded(TwilioParticipant, "participant")
          )
      ),
      /** DELETE /Conferences/{sid}/Participants/{callSid}.json: drops that leg from the conference. */
      removeParticipant: Effect.fn("TwilioClient.removeParticipant")(
        (credentials: TwilioCredentials, conferenceSid: string, callSid: string) =>
          send(credentials, (client) => client.conferences(conferenceSid).participants(callSid).remove()).pipe(Effect.asVoid)
      ),
      /** GET /Conferences/{sid}/Participants.json, following pages up to `limit`. */
      listParticipants: Effect.fn("TwilioClient.listParticipants")(
        (credentials: TwilioCredentials, conferenceSid: string, options: ParticipantListInstanceOptions = {}) =>
          send(credentials, (client) => client.conferences(conferenceSid).participants.list(options)).pipe(
            decoded(Schema.Array(TwilioParticipant), "participant list")
          )
      ),
      /** POST /Messages.json: an SMS (or MMS with `mediaUrl`). */
      sendMessage: Effect.fn("TwilioClient.sendMessage")(
        (credentials: TwilioCredentials, options: MessageListInstanceCreateOptions) =>
          send(credentials, (client) => client.messages.create(options)).pipe(decoded(TwilioMessage, "message"))
      ),
      /** GET /Recordings/{sid}.json */
      fetchRecording: Effect.fn("TwilioClient.fetchRecording")((credentials: TwilioCredentials, recordingSid: string) =>
        send(credentials, (client) => client.recordings(recordingSid).fetch()).pipe(decoded(TwilioRecording, "recording"))
      )
    } as const
  }),
  dependencies: [TwilioConfig.Default]
}) {}
