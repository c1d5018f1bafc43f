/**
 * URLs whose path and query need no decoding: no percent-escapes, no `+`, none of the
 * separators (`;`, `#`) the router also splits on. For these the split below gives exactly
 * what the HttpApi router's query parser gives (find-my-way's port of fast-querystring,
 * test/hot-reads.test.ts compares them); anything else is left to the router.
 */
export const SIMPLE_URL = /^\/[A-Za-z0-9/_.~-]*(\?[A-Za-z0-9._~:,=&-]*)?$/

/**
 * `a=1&b=2&b=3&c` as `{ a: "1", b: ["2", "3"], c: "" }`: the first `=` splits key from
 * value, a repeated key collects its values, empty pairs are skipped. Only for a query that
 * passed `SIMPLE_URL`.
 */
export const parseSimpleQuery = (query: string): Record<string, string | Array<string>> => {
  const result: Record<string, string | Array<string>> = Object.create(null)
  if (query === "") return result
  for (const pair of query.split("&")) {
    const equals = pair.indexOf("=")
    if (equals === -1 && pair.length === 0) continue
    const key = equals === -1 ? pair : pair.slice(0, equals)
    const value = equals === -1 ? "" : pair.slice(equals + 1)
    const current = result[key]
    result[key] = current === undefined ? value : typeof current === "string" ? [current, value] : [...current, value]
  }
  return result
}
