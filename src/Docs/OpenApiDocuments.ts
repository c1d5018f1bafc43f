import type * as HttpApi from "@effect/platform/HttpApi"
import * as OpenApi from "@effect/platform/OpenApi"
import { SERVICE_VERSION } from "../Health/ServiceInfo.js"

type Document = Record<string, any>

const DECODE_ERROR_REF = "#/components/schemas/HttpApiDecodeError"

/**
 * HttpApi adds its own `HttpApiDecodeError` 400 to every endpoint; we answer bad input
 * with the spec's envelopes instead (Server/Edge.ts), so the document says so: that
 * member is removed, and a 400 left with nothing is dropped.
 */
const withoutDecodeErrors = (doc: Document): Document => {
  for (const operations of Object.values<Document>(doc.paths)) {
    for (const operation of Object.values<Document>(operations)) {
      const badRequest = operation.responses?.["400"]
      const json = badRequest?.content?.["application/json"]
      if (json === undefined) continue
      if (json.schema?.$ref === DECODE_ERROR_REF) {
        delete operation.responses["400"]
      } else if (Array.isArray(json.schema?.anyOf)) {
        const rest = json.schema.anyOf.filter((member: Document) => member.$ref !== DECODE_ERROR_REF)
        json.schema = rest.length === 1 ? rest[0] : { anyOf: rest }
        badRequest.description = "Invalid request"
      }
    }
  }
  for (const name of ["HttpApiDecodeError", "Issue", "PropertyKey"]) delete doc.components.schemas[name]
  return doc
}

const uniqueTags = (doc: Document): Document => {
  const seen = new Set<string>()
  doc.tags = doc.tags.filter((tag: Document) => !seen.has(tag.name) && seen.add(tag.name))
  return doc
}

const documentFor = (api: HttpApi.HttpApi.Any, title: string, description: string, serverUrl: string): Document => {
  const derived = OpenApi.fromApi(api as HttpApi.HttpApi.AnyWithProps, { additionalPropertiesStrategy: "allow" })
  const doc: Document = structuredClone(derived)
  doc.info = { title, version: SERVICE_VERSION, description }
  doc.servers = [{ url: serverUrl, description: "This service (PUBLIC_BASE_URL)" }]
  return uniqueTags(withoutDecodeErrors(doc))
}

const DESCRIPTION = "Multi-tenant voice AI over Twilio Media Streams and the OpenAI Realtime API. " +
  "Tenant endpoints take `Authorization: Bearer <api key>`; admin endpoints take `x-admin-key` or the admin session cookie."

/** The three published documents, derived once from the HttpApi definitions; `serverUrl` is where this service is reached. */
export const makeOpenApiDocuments = (apis: {
  readonly full: HttpApi.HttpApi.Any
  readonly public: HttpApi.HttpApi.Any
  readonly admin: HttpApi.HttpApi.Any
}, serverUrl = "http://localhost:5050") => ({
  full: documentFor(apis.full, "StateSet Voice API - Full", DESCRIPTION, serverUrl),
  public: documentFor(apis.public, "StateSet Voice API - Public", DESCRIPTION, serverUrl),
  admin: documentFor(apis.admin, "StateSet Voice API - Admin", DESCRIPTION, serverUrl)
})
