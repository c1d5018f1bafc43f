/** Names of values that hold a credential (JSON keys, query parameters): tokens, secrets, keys... */
export const SECRET_NAME = /token|secret|passw(or)?d|api[_-]?key|private[_-]?key|credential|signing[_-]?key|authorization/i

/** Query parameters that carry a credential (`?key=`, a SAS `sig=`) besides the secret-looking names. */
const SECRET_PARAM = /^(key|sig|signature|auth|pass|pwd)$/i

const URL_START = /^[a-z][a-z0-9+.-]*:\/\//i
/** `scheme://userinfo@`: the userinfo runs to the authority's last `@`, as URL parsers read it. */
const URL_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i

/**
 * `user:password`: the password is the credential. A user alone, or with an empty password, is
 * the credential itself (`https://<token>@host`, `https://<api key>:@host`).
 */
const redactUserinfo = (userinfo: string, marker: string): string => {
  const colon = userinfo.indexOf(":")
  const [user, password] = colon === -1 ? [userinfo, ""] : [userinfo.slice(0, colon), userinfo.slice(colon + 1)]
  if (password !== "") return `${user}:${marker}`
  return user === "" ? userinfo : `${marker}${colon === -1 ? "" : ":"}`
}

const QUERY_PARAM = /(^|[?&;])([^=&#;?]+)=([^&#;]*)/g

/** A parameter's name as the receiving server reads it: `api%5Fkey` and `api+key` are `api_key` and `api key` there. */
const decodedName = (name: string): string => {
  if (!/[%+]/.test(name)) return name
  try {
    return decodeURIComponent(name.replaceAll("+", " "))
  } catch {
    return name
  }
}

const isSecretParam = (name: string): boolean => {
  const decoded = decodedName(name)
  return SECRET_NAME.test(decoded) || SECRET_PARAM.test(decoded)
}

/** A query (`?a=1&token=x`, or without its `?`) with each secret parameter's value replaced by `marker`. */
export const redactQuerySecrets = (query: string, marker: string): string =>
  query.replace(QUERY_PARAM, (param, lead: string, name: string, value: string) =>
    value !== "" && isSecretParam(name) ? `${lead}${name}=${marker}` : param)

/**
 * A URL with its password (or a user that is the credential) and secret query values replaced by
 * `marker` (a tenant's webhook or tool URL may carry its own credentials; a request's query may
 * carry a token); any other text, and the rest of the URL, exactly as it is.
 */
export const redactUrlSecrets = (text: string, marker: string): string => {
  if (!URL_START.test(text)) return text
  const withoutPassword = text.replace(URL_USERINFO, (_, head: string, userinfo: string) =>
    `${head}${redactUserinfo(userinfo, marker)}@`)
  const queryAt = withoutPassword.indexOf("?")
  if (queryAt === -1) return withoutPassword
  const fragmentAt = withoutPassword.indexOf("#", queryAt)
  const end = fragmentAt === -1 ? withoutPassword.length : fragmentAt
  return withoutPassword.slice(0, queryAt) + redactQuerySecrets(withoutPassword.slice(queryAt, end), marker) +
    withoutPassword.slice(end)
}

/** Whether `url` holds a credential in its userinfo or a secret query value. */
export const carriesUrlSecrets = (url: string): boolean => redactUrlSecrets(url, "REDACTED") !== url

/** Every URL inside `text` (an HTTP client's message names the URL it failed on) with its secrets replaced by `marker`. */
export const redactUrlsIn = (text: string, marker: string): string =>
  text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s()<>"']+/gi, (url) => redactUrlSecrets(url, marker))

/**
 * An error's message (or the value as text) with the credentials of the URLs it names replaced
 * by `marker`: an HTTP client's message names the tenant URL it failed on, and that text is
 * stored, logged or given to the model. `url`, the one called, is replaced wherever it appears as
 * written: it may hold what ends a URL in prose (a space, a quote, a parenthesis) before its token.
 */
export const failureText = (error: unknown, marker: string, url?: string): string => {
  const text = typeof error === "object" && error !== null && "message" in error ? String(error.message) : String(error)
  const called = url === undefined || url === "" ? [] : [url, ...(URL.canParse(url) ? [new URL(url).href] : [])]
  return redactUrlsIn(called.reduce((named, as) => named.replaceAll(as, redactUrlSecrets(as, marker)), text), marker)
}
