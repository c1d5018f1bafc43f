import type { Audience } from "./Errors.js"

const pathOf = (url: string) => {
  const query = url.indexOf("?")
  return query === -1 ? url : url.slice(0, query)
}

/** Which error envelope a path's callers expect (the spec gives each audience its own). */
export const audienceOf = (url: string): Audience => {
  const path = pathOf(url).replace(/^\/api\/v1(?=\/)/, "")
  if (path === "/admin" || path.startsWith("/admin/")) return "admin"
  if (path === "/access-requests") return "access"
  if (/^\/sessions\/[^/]+\/actions\/[^/]+$/.test(path)) return "session"
  return "tenant"
}

/** Probes and Twilio's own requests are not limited per address (Twilio calls from a few addresses, a lot). */
export const exemptFromIpLimit = (url: string): boolean => {
  const path = pathOf(url).replace(/^\/api\/v1(?=\/)/, "")
  return path.startsWith("/health") ||
    path === "/media-stream" ||
    path === "/incoming-call" || path === "/outbound-call" || path === "/call-status" ||
    path === "/incoming-call-sip" || path === "/outbound-call-sip"
}

/** Twilio's own webhooks: they must get TwiML back, so their form fields are judged by their handlers. */
export const isTwilioWebhook = (url: string): boolean => {
  const path = pathOf(url).replace(/^\/api\/v1(?=\/)/, "")
  return path === "/incoming-call" || path === "/outbound-call" || path === "/call-status" ||
    path === "/incoming-call-sip" || path === "/outbound-call-sip"
}

/** `/X` is the legacy spelling of `/api/v1/X`. */
export const legacyAlias = (url: string): string | undefined =>
  url.startsWith("/api/") ? undefined : `/api/v1${url}`
