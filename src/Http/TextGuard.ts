import { isStorableText } from "./Schemas.js"

/** Longest string accepted anywhere in a request (a field's own schema may say less). */
export const MAX_STRING = 100_000
/** Longest path segment or query value (ids, cursors, filters). */
export const MAX_URL_PART = 2_048

const problem = (text: string, max: number): string | undefined =>
  !isStorableText(text)
    ? "must not contain NUL characters or unpaired surrogates"
    : text.length > max
    ? `must be at most ${max} characters`
    : undefined

/**
 * The first string in a parsed JSON body (values and keys) that PostgreSQL cannot store or
 * that is beyond any field's length, as "field.path: what is wrong". The body's depth is
 * already bounded (BodyGuard), so the walk's stack is too.
 */
export const unstorableJson = (value: unknown, path = ""): string | undefined => {
  if (typeof value === "string") {
    const wrong = problem(value, MAX_STRING)
    return wrong === undefined ? undefined : `${path === "" ? "body" : path}: ${wrong}`
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unstorableJson(value[i], `${path}[${i}]`)
      if (found !== undefined) return found
    }
    return undefined
  }
  if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const field = path === "" ? key : `${path}.${key}`
      const wrongKey = problem(key, 1_000)
      if (wrongKey !== undefined) return `${field}: key ${wrongKey}`
      const found = unstorableJson(item, field)
      if (found !== undefined) return found
    }
  }
  return undefined
}

/** Form fields (Twilio's webhooks) checked the same way. */
export const unstorableForm = (body: string): string | undefined => {
  for (const [key, value] of new URLSearchParams(body)) {
    const wrong = problem(key, 1_000) ?? problem(value, MAX_STRING)
    if (wrong !== undefined) return `${key}: ${wrong}`
  }
  return undefined
}

const decode = (part: string): string | undefined => {
  try {
    return decodeURIComponent(part.replace(/\+/g, " "))
  } catch {
    return undefined
  }
}

/** The URL's path segments and query parameters, checked before any becomes a SQL value. */
export const unstorableUrl = (url: string): string | undefined => {
  const query = url.indexOf("?")
  const path = query === -1 ? url : url.slice(0, query)
  for (const segment of path.split("/")) {
    const text = decode(segment)
    if (text === undefined) return "path: malformed percent-encoding"
    const wrong = problem(text, MAX_URL_PART)
    if (wrong !== undefined) return `path segment: ${wrong}`
  }
  if (query === -1) return undefined
  for (const pair of url.slice(query + 1).split("&")) {
    if (pair === "") continue
    const eq = pair.indexOf("=")
    const name = decode(eq === -1 ? pair : pair.slice(0, eq))
    const value = decode(eq === -1 ? "" : pair.slice(eq + 1))
    if (name === undefined) return "query: malformed percent-encoding"
    if (value === undefined) return `${name.slice(0, 100)}: malformed percent-encoding`
    const wrong = problem(name, 200) ?? problem(value, MAX_URL_PART)
    if (wrong !== undefined) return `${name.slice(0, 100)}: ${wrong}`
  }
  return undefined
}
