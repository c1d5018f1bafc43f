import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { Cause, Effect, Exit, Option } from "effect"
import { Api } from "../../src/Api.js"

/** Typed against the service's own `Api`: the same definitions the server implements. */
const makeClient = (bearer: string | undefined) =>
  HttpApiClient.make(Api, {
    baseUrl: window.location.origin,
    transformClient: HttpClient.mapRequest((request) =>
      bearer === undefined ? request : HttpClientRequest.bearerToken(request, bearer)
    )
  }).pipe(Effect.provide(FetchHttpClient.layer))

export type ApiClient = Effect.Effect.Success<ReturnType<typeof makeClient>>

const clients = new Map<string, ApiClient>()

/** One client per credential (the admin's cookie needs none; a tenant's token is a bearer). */
export const clientFor = (bearer: string | undefined): ApiClient => {
  const key = bearer ?? ""
  let client = clients.get(key)
  if (client === undefined) {
    client = Effect.runSync(makeClient(bearer))
    clients.set(key, client)
  }
  return client
}

/** What a failed request says, in words: the service's error envelope or the transport's. */
export const describeError = (error: unknown): string => {
  if (typeof error === "object" && error !== null) {
    const record = error as Record<string, unknown>
    if (typeof record.message === "string" && record.message !== "") return record.message
    const nested = record.error
    if (typeof nested === "string") return nested
    if (typeof nested === "object" && nested !== null && typeof (nested as Record<string, unknown>).message === "string") {
      return (nested as Record<string, string>).message
    }
    if (record._tag === "RequestError") return "The service could not be reached"
    if (record._tag === "ResponseError") return `The service answered ${String((record.response as { status?: number })?.status ?? "")}`
    if (typeof record._tag === "string") return record._tag
  }
  return String(error)
}

export class ApiFailure extends Error {
  constructor(override readonly cause: unknown, readonly status: number | undefined) {
    super(describeError(cause))
  }
}

/** The decoded wire errors carry their status in their tag (`AdminUnauthorized`, `ApiNotFound`, ...). */
const STATUS_BY_TAG_SUFFIX: ReadonlyArray<readonly [string, number]> = [
  ["Unauthorized", 401],
  ["NotFound", 404],
  ["Conflict", 409],
  ["BadRequest", 400],
  ["Unavailable", 503]
]

const statusOf = (error: unknown): number | undefined => {
  if (typeof error !== "object" || error === null) return undefined
  const record = error as { _tag?: unknown; status?: unknown; response?: { status?: unknown } }
  if (typeof record.status === "number") return record.status
  if (typeof record.response?.status === "number") return record.response.status
  const tag = typeof record._tag === "string" ? record._tag : ""
  return STATUS_BY_TAG_SUFFIX.find(([suffix]) => tag.endsWith(suffix))?.[1]
}

/** Runs a client call as a promise; failures become `ApiFailure` with the service's message. */
export const run = async <A, E>(effect: Effect.Effect<A, E>): Promise<A> => {
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) return exit.value
  const failure = Cause.failureOption(exit.cause)
  const error = Option.isSome(failure) ? failure.value : Cause.squash(exit.cause)
  throw new ApiFailure(error, statusOf(error))
}
