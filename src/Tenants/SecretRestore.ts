import { Either } from "effect"
import { carriesUrlSecrets, redactUrlSecrets } from "../Http/UrlSecrets.js"
import { isJsonObject, REDACTED, redactSecrets } from "./Domain.js"

/**
 * A tenant document read back (redacted) and written again keeps the stored secrets: a
 * `"[redacted]"` marker is the stored value at the same place, a URL exactly as a stored one
 * reads redacted is that URL. A marker is only ever filled from the same logical item, so a
 * credential never reaches an endpoint it was not given for:
 * - list items pair up by what they are, not where they are: the stored item that reads the
 *   same, else the one with the same `id` (or `name`, `key`, `url`: the first the item has),
 *   unique on both sides;
 * - below the top level, a marker is not kept in an object whose URLs now name another host
 *   (one changed or added), nor anywhere below it (`{ url, auth: { token } }`);
 * - a marker that cannot be paired refuses the write (naming its place) instead of guessing.
 */

const IDENTITY_KEYS = ["id", "name", "key", "url"] as const

const ROOT = "config"

const sortedKeys = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(sortedKeys)
    : isJsonObject(value)
    ? Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortedKeys(value[key])]))
    : value

/** A value as a read shows it, in one spelling (key order aside). */
const reading = (value: unknown): string => JSON.stringify(sortedKeys(redactSecrets(value))) ?? "undefined"

const indicesBy = (keys: ReadonlyArray<string | undefined>): Map<string, Array<number>> => {
  const groups = new Map<string, Array<number>>()
  keys.forEach((key, index) => {
    if (key === undefined) return
    const group = groups.get(key)
    if (group === undefined) groups.set(key, [index])
    else group.push(index)
  })
  return groups
}

/** The identity key an item is known by (the first it has) and its value as read. */
const identityOf = (item: unknown): readonly [string, string] | undefined => {
  if (!isJsonObject(item)) return undefined
  const key = IDENTITY_KEYS.find((name) => typeof item[name] === "string" || typeof item[name] === "number")
  return key === undefined ? undefined : [key, reading(item[key])]
}

/** For each incoming item, the index of the stored item it is, or -1 when that cannot be told. */
const pairItems = (incoming: ReadonlyArray<unknown>, stored: ReadonlyArray<unknown>): ReadonlyArray<number> => {
  const pairs = incoming.map(() => -1)
  const taken = new Set<number>()
  const storedByReading = indicesBy(stored.map(reading))
  // Items that read the same pair up in order when both lists hold as many (a document as read);
  // otherwise only if the stored ones are the same secrets too.
  for (const [text, ins] of indicesBy(incoming.map(reading))) {
    const candidates = storedByReading.get(text) ?? []
    if (candidates.length === 0) continue
    if (candidates.length !== ins.length) {
      const first = JSON.stringify(sortedKeys(stored[candidates[0]!]))
      if (!candidates.every((index) => JSON.stringify(sortedKeys(stored[index])) === first)) continue
    }
    ins.forEach((at, n) => {
      const partner = candidates.length === ins.length ? candidates[n]! : candidates[0]!
      pairs[at] = partner
      taken.add(partner)
    })
  }
  // An edited item: by its identity, when exactly one item on each side has it.
  const byIdentity = new Map<string, readonly [Map<string, Array<number>>, Map<string, Array<number>>]>()
  const indexOf = (key: string) => {
    let found = byIdentity.get(key)
    if (found === undefined) {
      const valueAt = (item: unknown) => isJsonObject(item) && key in item ? reading(item[key]) : undefined
      byIdentity.set(key, found = [indicesBy(stored.map(valueAt)), indicesBy(incoming.map(valueAt))])
    }
    return found
  }
  incoming.forEach((item, at) => {
    if (pairs[at] !== -1) return
    const identity = identityOf(item)
    if (identity === undefined) return
    const [storedWith, incomingWith] = indexOf(identity[0])
    const candidates = storedWith.get(identity[1]) ?? []
    const partner = candidates[0]!
    if (candidates.length === 1 && incomingWith.get(identity[1])?.length === 1 && !taken.has(partner)) {
      pairs[at] = partner
      taken.add(partner)
    }
  })
  return pairs
}

/**
 * The stored document's URLs that carry a credential, by how they read redacted; a reading two
 * different URLs share names neither and is left out.
 */
const urlsByReading = (stored: unknown): ReadonlyMap<string, string> => {
  const found = new Map<string, string | null>()
  const visit = (value: unknown): void => {
    if (typeof value === "string") {
      const redacted = redactUrlSecrets(value, REDACTED)
      if (redacted !== value) found.set(redacted, found.has(redacted) && found.get(redacted) !== value ? null : value)
    } else if (Array.isArray(value)) value.forEach(visit)
    else if (isJsonObject(value)) Object.values(value).forEach(visit)
  }
  visit(stored)
  return new Map([...found].flatMap(([redacted, url]) => url === null ? [] : [[redacted, url] as const]))
}

const URL_START = /^[a-z][a-z0-9+.-]*:\/\//i

/** Scheme, host and port: where a credential goes. */
const hostOf = (url: string): string =>
  URL.canParse(url) ? (({ host, protocol }) => `${protocol}//${host}`)(new URL(url)) : url

/** A URL of an object now names another host than it did, or an object gained one (a URL removed moves nothing). */
const movedHost = (was: unknown, now: unknown): boolean => {
  if (typeof now !== "string" || now === was) return false
  const wasUrl = typeof was === "string" && URL_START.test(was)
  if (!wasUrl) return URL_START.test(now)
  return hostOf(now) !== hostOf(was)
}

const childPath = (path: string, key: string) =>
  /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`

const SEND_AGAIN = "send the secret again"

interface Restoring {
  readonly urls: ReadonlyMap<string, string>
  readonly problems: Array<string>
}

/**
 * `movedBy`: the place of a URL, in an object enclosing this value (the document itself aside),
 * that now names another host than it did: no stored secret below that object is kept.
 */
const restore = (incoming: unknown, stored: unknown, path: string, context: Restoring, movedBy?: string): unknown => {
  if (incoming === REDACTED) {
    if (stored === undefined || stored === null) {
      context.problems.push(
        `${path} is "${REDACTED}" but matches no stored secret (list items are matched by their content, or by one unique id, name, key or url); ${SEND_AGAIN}`
      )
    } else if (movedBy !== undefined) {
      context.problems.push(`${path} is "${REDACTED}" but ${movedBy} now names another host; ${SEND_AGAIN}`)
    }
    return stored
  }
  if (typeof incoming === "string") {
    if (typeof stored === "string" && (incoming === stored || redactUrlSecrets(stored, REDACTED) === incoming)) return stored
    const url = context.urls.get(incoming)
    if (url !== undefined) return url
    if (incoming.includes(REDACTED) && carriesUrlSecrets(incoming)) {
      context.problems.push(`${path} holds a "${REDACTED}" credential that matches no stored URL; ${SEND_AGAIN}`)
    }
    return incoming
  }
  if (Array.isArray(incoming)) {
    const storedItems: ReadonlyArray<unknown> = Array.isArray(stored) ? stored : []
    const pairs = pairItems(incoming, storedItems)
    return incoming.map((inner, index) => {
      const partner = pairs[index]!
      return restore(inner, partner === -1 ? undefined : storedItems[partner], `${path}[${index}]`, context, movedBy)
    })
  }
  if (!isJsonObject(incoming)) return incoming
  const storedObject = isJsonObject(stored) ? stored : {}
  const entries = Object.entries(incoming)
  const out: Record<string, unknown> = {}
  // This object's own strings (its URLs) first: whether one moved decides what may be kept below it,
  // at any depth. The document itself is not an endpoint: its webhook_url moving does not concern auth_token.
  const isOwnString = (inner: unknown) => typeof inner === "string" && inner !== REDACTED
  for (const [key, inner] of entries) {
    out[key] = isOwnString(inner) ? restore(inner, storedObject[key], childPath(path, key), context) : undefined
  }
  const moved = path === ROOT
    ? undefined
    : entries.find(([key, inner]) => isOwnString(inner) && movedHost(storedObject[key], out[key]))?.[0]
  const below = moved === undefined ? movedBy : childPath(path, moved)
  for (const [key, inner] of entries) {
    if (!isOwnString(inner)) out[key] = restore(inner, storedObject[key], childPath(path, key), context, below)
  }
  return out
}

/**
 * `incoming` (a document as read, possibly edited) with its markers and redacted URLs replaced
 * by the stored secrets they stand for, or why that cannot be done (every place named).
 */
export const restoreRedactedSecrets = (incoming: unknown, stored: unknown): Either.Either<unknown, string> => {
  const context: Restoring = { urls: urlsByReading(stored), problems: [] }
  const restored = restore(incoming, stored, ROOT, context)
  return context.problems.length === 0 ? Either.right(restored) : Either.left(context.problems.join("; "))
}
