/**
 * The cases of `bench:rest` (issue 13): each is run against the service and the bare baseline
 * (bench/rest-baseline.ts) at the same rates. And the check, before any load, that the two answer
 * every case with the same JSON (the baseline's SQL is a capture that can drift from the repos').
 */
import { isDeepStrictEqual } from "node:util"

export interface RestCase {
  readonly name: string
  readonly paths: ReadonlyArray<string>
  readonly rates: ReadonlyArray<number>
}

/** Common words (in ~20% of transcripts) and selective order numbers (one call each). */
const words = ["refund", "invoice", "warranty", "tracking", "exchange"]
const orders = [1201, 5003, 9107, 14011, 17989].map((n) => encodeURIComponent(`order ${n * 31 + 2},`))

/** `detail`: paths of the tenant's calls (`/api/v1/call-logs/:id`); `sessionDetail`: of its voice sessions. */
export const restCases = (detail: ReadonlyArray<string>, sessionDetail: ReadonlyArray<string>): ReadonlyArray<RestCase> => [
  // The figure is 1000/s; the generator and both processes share two cores (RESULTS).
  { name: "GET /status (API key)", paths: ["/status"], rates: [Number(process.env.BENCH_STATUS_RATE ?? 1000)] },
  { name: "call-logs?limit=50", paths: ["/api/v1/call-logs?limit=50"], rates: [150, 500] },
  { name: "voice-sessions?limit=50", paths: ["/api/v1/voice-sessions?limit=50"], rates: [150, 500] },
  { name: "call-logs/:id", paths: detail, rates: [500] },
  { name: "voice-sessions/:id", paths: sessionDetail, rates: [500] },
  { name: "call-logs?transcript_search=(common word)", paths: words.map((w) => `/api/v1/call-logs?limit=50&transcript_search=${w}`), rates: [100] },
  { name: "call-logs?transcript_search=(order number)", paths: orders.map((o) => `/api/v1/call-logs?limit=50&transcript_search=${o}`), rates: [100] },
  { name: "voice-sessions?search=(order number)", paths: orders.map((o) => `/api/v1/voice-sessions?limit=50&search=${o}`), rates: [100] },
  // A dashboard's search is typed by people: 5/s is many agents searching at once, 20/s a burst.
  { name: "voice-sessions?search=(common word)", paths: words.map((w) => `/api/v1/voice-sessions?limit=50&search=${w}`), rates: [5, 20] },
  { name: "call-logs/stats", paths: ["/api/v1/call-logs/stats"], rates: [100] },
  { name: "voice-outcomes/stats", paths: ["/api/v1/voice-outcomes/stats"], rates: [100] },
  { name: "voice-outcomes/timeseries", paths: ["/api/v1/voice-outcomes/timeseries"], rates: [100] },
  { name: "voice-session-evals/stats", paths: ["/api/v1/voice-session-evals/stats"], rates: [100] },
  // Last: on 100,000 calls the 30d and all-time reports cost more PostgreSQL CPU than 100/s allows.
  ...["24h", "7d", "30d", "all"].map((w) => ({ name: `call-logs/latency (${w})`, paths: [`/api/v1/call-logs/latency?window=${w}`], rates: [100] }))
]

const getJson = async (port: number, path: string, headers: Record<string, string>) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers })
  const text = await res.text()
  return { status: res.status, bytes: Buffer.byteLength(text), json: JSON.parse(text) as unknown }
}

/** Items per array of a body (`calls 50`, `slowest 10, points 365`): what a response holds against its page. */
const arrays = (value: unknown, prefix = ""): Array<string> =>
  typeof value !== "object" || value === null
    ? []
    : Object.entries(value).flatMap(([key, v]) =>
      Array.isArray(v) ? [`${prefix}${key} ${v.length}`] : arrays(v, `${prefix}${key}.`)
    )

export interface BodyCheck {
  /** "yes", or why not (status, or the differing top-level fields). */
  readonly same: string
  readonly items: string
}

/**
 * One request of the case's first path to the service, then to the baseline (after: the service's
 * first search of a term registers its count, which the same statement then reads in both).
 * `/status`'s clock and message differ by design.
 */
export const compareBodies = async (
  c: RestCase,
  service: { readonly port: number; readonly headers: Record<string, string> },
  barePort: number
): Promise<BodyCheck> => {
  const path = c.paths[0]!
  const svc = await getJson(service.port, path, service.headers)
  const bare = await getJson(barePort, path, {})
  const items = arrays(svc.json).join(", ")
  if (svc.status !== 200 || bare.status !== 200) return { same: `status ${svc.status} / ${bare.status}`, items }
  if (path === "/status") return { same: "n/a", items }
  if (isDeepStrictEqual(svc.json, bare.json)) return { same: "yes", items }
  const a = svc.json as Record<string, unknown>
  const b = bare.json as Record<string, unknown>
  const differ = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !isDeepStrictEqual(a[k], b[k]))
  return { same: `no: ${differ.join(", ")}`, items }
}
