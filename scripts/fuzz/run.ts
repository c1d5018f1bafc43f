import { readFileSync } from "node:fs"
import { audienceOf } from "../../src/Http/Audience.js"
import { operationsOf, requestFor, type Credentials, type FuzzRequest } from "./Cases.js"
import { type JsonSchema, prng } from "./Generate.js"
import { ADMIN_KEY, startTarget } from "./Service.js"

/**
 * `npm run fuzz`: every operation of the service's own OpenAPI document, called with requests
 * generated from its schemas plus issue 7's hostile cases. Each answer must be below 500,
 * within 2 s, and (for errors) in the audience's envelope. Options: `--budget N` or
 * FUZZ_REQUESTS (default 2000), FUZZ_SEED, FUZZ_CONCURRENCY (default 8), FUZZ_BASE_URL.
 */

const argValue = (name: string) => {
  const i = process.argv.indexOf(name)
  return i === -1 ? undefined : process.argv[i + 1]
}
const budget = Number(argValue("--budget") ?? process.env.FUZZ_REQUESTS ?? 2_000)
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000)
const concurrency = Number(process.env.FUZZ_CONCURRENCY ?? 8)
const MAX_MS = 2_000

interface Failure {
  readonly request: FuzzRequest
  readonly status: number
  readonly ms: number
  readonly reason: string
}

const resolveRef = (doc: JsonSchema, schema: JsonSchema | undefined): JsonSchema | undefined => {
  const ref = schema?.$ref
  if (typeof ref !== "string") return schema
  return ref.replace(/^#\//, "").split("/").reduce((node: any, key) => node?.[key], doc)
}

/**
 * Whether an error answer has the envelope the document declares for that status (the
 * operation's own schema, or text where it says text), or else the audience's envelope.
 */
const audienceProblem = (path: string, body: any): string | undefined => {
  const audience = audienceOf(path)
  // Session actions answer with the spec's SessionActionResponse ({ok: false, message}); the
  // credential check before them (401) answers with the tenant envelope.
  if (audience === "session" && body?.ok === false && typeof body?.message === "string") return undefined
  if (typeof body?.error !== "string") return "error body has no `error` message"
  if (audience === "admin" && body.ok !== false) return "admin error without ok:false"
  if (audience !== "admin" && audience !== "access" && (body.success !== false || typeof body.code !== "string")) return "tenant error without success:false/code"
  return undefined
}

/** The contract (spec/openapi.json) decides what an error looks like; our derived document lists the operations. */
const spec: JsonSchema = JSON.parse(readFileSync(new URL("../../spec/openapi.json", import.meta.url), "utf8"))

const parseOrUndefined = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

const envelopeProblem = (request: FuzzRequest, status: number, contentType: string, text: string): string | undefined => {
  if (status < 400) return undefined
  const doc = spec
  const declared = doc.paths?.[request.template]?.[request.method.toLowerCase()]?.responses?.[String(status)]?.content
  const declaredTypes = Object.keys(declared ?? {})
  // Node itself refuses oversized heads (431) before any of our code runs; it writes no body.
  if (status === 431) return undefined
  if (declaredTypes.length > 0 && !declaredTypes.some((type) => contentType.startsWith(type))) {
    // The edge (and HttpApi's decoder) answer refusals in the audience's JSON envelope.
    const json = contentType.includes("json") ? parseOrUndefined(text) : undefined
    if (json !== undefined && audienceProblem(request.path, json) === undefined) return undefined
    return `error answered as ${contentType || "nothing"}, declared ${declaredTypes.join(", ")}`
  }
  if (declaredTypes.length > 0 && !declaredTypes.some((type) => type.includes("json"))) return undefined
  if (declaredTypes.length === 0 && contentType.startsWith("text/plain")) {
    // An undeclared status in the text the operation answers its declared errors with (Twilio's webhooks).
    const responses = doc.paths?.[request.template]?.[request.method.toLowerCase()]?.responses ?? {}
    const textErrors = Object.entries<JsonSchema>(responses).some(([code, r]) => code >= "400" && r.content?.["text/plain"] !== undefined)
    if (textErrors) return undefined
  }
  let body: any
  try {
    body = JSON.parse(text)
  } catch {
    return `error body is not JSON (${contentType}): ${text.slice(0, 80)}`
  }
  const schema = resolveRef(doc, declared?.["application/json"]?.schema)
  if (schema !== undefined) {
    const missing = (schema.required ?? []).filter((key: string) => !(key in (body ?? {})))
    // The edge refuses some input before any operation runs, in the audience's envelope.
    if (missing.length === 0 || audienceProblem(request.path, body) === undefined) return undefined
    return `error body lacks ${missing.join(", ")} (declared schema)`
  }
  return audienceProblem(request.path, body)
}

const declaresStatus = (request: FuzzRequest, status: number): boolean =>
  spec.paths?.[request.template]?.[request.method.toLowerCase()]?.responses?.[String(status)]?.content?.["application/json"] !== undefined

/** Contract-declared 5xx answers seen (reported, not failures). */
const declared5xx = new Map<string, number>()

const send = async (baseUrl: string, request: FuzzRequest): Promise<Failure | undefined> => {
  const started = performance.now()
  try {
    const res = await fetch(`${baseUrl}${request.path}`, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(10_000)
    })
    const text = await res.text()
    const ms = Math.round(performance.now() - started)
    const fail = (reason: string): Failure => ({ request, status: res.status, ms, reason })
    // A dependency we pointed at a closed port may be reported down (502/503) - with the envelope.
    if (res.status >= 500 && res.status !== 502 && res.status !== 503) {
      // The contract answers a failed tool run (/test-function) with a declared 500 body: counted, not failed.
      if (!declaresStatus(request, res.status) || envelopeProblem(request, res.status, res.headers.get("content-type") ?? "", text) !== undefined) {
        return fail("5xx")
      }
      declared5xx.set(`${request.method} ${request.template} -> ${res.status}`, (declared5xx.get(`${request.method} ${request.template} -> ${res.status}`) ?? 0) + 1)
    }
    if (ms > MAX_MS) return fail(`took ${ms} ms`)
    const problem = envelopeProblem(request, res.status, res.headers.get("content-type") ?? "", text)
    return problem === undefined ? undefined : fail(problem)
  } catch (error) {
    return { request, status: 0, ms: Math.round(performance.now() - started), reason: `no answer: ${String(error)}` }
  }
}

const main = async () => {
  const log: Array<string> = []
  const target = await startTarget(log)
  const started = Date.now()
  const failures: Array<Failure> = []
  let tried = 0
  try {
    const doc = (await (await fetch(`${target.baseUrl}/api-docs/openapi.json`)).json()) as JsonSchema
    const admin = { "x-admin-key": process.env.FUZZ_ADMIN_KEY ?? ADMIN_KEY }
    const token = `fuzz-token-${seed}-0123456789abcdef`
    const setup = await fetch(`${target.baseUrl}/api/v1/admin/tenants/fuzz`, {
      method: "PUT",
      headers: { ...admin, "content-type": "application/json" },
      body: JSON.stringify({ tenant_id: "fuzz", org_id: "org-fuzz", auth_token: token })
    })
    if (setup.status !== 200) throw new Error(`tenant setup answered ${setup.status}`)
    const credentials: Credentials = { admin, tenant: { authorization: `Bearer ${token}` }, tenantId: "fuzz" }
    const operations = operationsOf(doc)
    const rng = prng(seed)
    const worker = async () => {
      while (tried < budget) {
        tried++
        const op = operations[tried % operations.length]!
        const request = requestFor(op, doc, credentials, rng)
        const failure = await send(target.baseUrl, request)
        if (failure !== undefined) failures.push(failure)
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
    const seconds = ((Date.now() - started) / 1000).toFixed(1)
    console.log(`fuzz: ${tried} requests over ${operations.length} operations in ${seconds} s (seed ${seed}); ${failures.length} failures`)
    for (const [kind, count] of declared5xx) console.log(`  note: ${count} x ${kind} (a status and body the spec declares)`)
    const kinds = new Map<string, number>()
    for (const f of failures) {
      const kind = `${f.request.method} ${f.request.template} -> ${f.status}: ${f.reason}`
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1)
    }
    for (const [kind, count] of kinds) console.log(`  ${count} x ${kind}`)
    for (const f of failures.slice(0, Number(process.env.FUZZ_SHOW ?? 10))) {
      console.log(`  FAIL ${f.request.method} ${f.request.path.slice(0, 120)} [${f.request.label}] -> ${f.status} in ${f.ms} ms: ${f.reason}`)
      if (process.env.FUZZ_VERBOSE) console.log(`    body: ${(f.request.body ?? "").slice(0, 300)}`)
    }
  } finally {
    await target.stop()
  }
  if (failures.length > 0) {
    const errors = log.filter((line) => line.includes("\"level\":\"ERROR\"") || line.includes("level=ERROR")).slice(-10)
    for (const line of errors) console.log(`  service: ${line.slice(0, 400)}`)
    process.exit(1)
  }
}

main().catch((error) => {
  console.error("fuzz: could not run:", error)
  process.exit(2)
})
