import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpApiClient from "@effect/platform/HttpApiClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Effect } from "effect"
import { Api } from "./Api.js"

export interface ClientOptions {
  /** e.g. `https://voice.stateset.app`; omit when the provided HttpClient already targets the service. */
  readonly baseUrl?: string
  /** Sent with every request: `authorization` (tenant) or `x-admin-key` (admin). */
  readonly headers?: Record<string, string>
}

/**
 * The typed client for consumers, derived from the same `Api` the server implements:
 * `client.<group>.<endpoint>({ path, urlParams, payload })` with decoded responses and typed errors.
 * Needs an `HttpClient` (`FetchHttpClient.layer` in browsers and Node 20).
 */
export const makeClient = (options: ClientOptions = {}) =>
  HttpApiClient.make(Api, {
    baseUrl: options.baseUrl,
    transformClient: HttpClient.mapRequest(HttpClientRequest.setHeaders(options.headers ?? {}))
  })

/** `makeClient` with the platform's fetch-based HttpClient. */
export const makeFetchClient = (options: ClientOptions) =>
  makeClient(options).pipe(Effect.provide(FetchHttpClient.layer))
