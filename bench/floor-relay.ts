/**
 * The floor for call set-up (issue 11 item 1): the cheapest honest relay that still does what the
 * issue says may not be skipped, as plain node (node:http, ws, pg, node:crypto), so bench/setup.ts
 * can put it beside the service and the bare relay (bench/baseline-relay.ts) in one run.
 *
 * - webhook: the form read (bounded), X-Twilio-Signature checked as Twilio defines it (HMAC-SHA1
 *   over URL + sorted params, base64, constant time) with the tenant's auth token, the tenant from
 *   a map loaded at start, ONE statement that admits the call (per-tenant concurrent-call cap) and
 *   writes its record (commit without WAL flush, as src/Limits/Repo.ts's admission), a single-use
 *   stream token (HMAC-SHA256 over id, call SID, expiry) in the TwiML.
 * - media stream: on `start` the token's HMAC and expiry checked, its one use spent by ONE
 *   statement (the record to in-progress with the stream SID; a second use finds none), the
 *   upstream opened meanwhile; then session.update, the greeting's response.create and the caller
 *   audio held; the model's audio deltas passed to the caller as they are.
 * - end: the record completed (status, ended_at, duration) and the tenant's slot given back, durably.
 *
 * Left out, as not what makes a call correct: agent versions, tools, transcripts, analysis, outbox,
 * rollups, spans, rate limits; an admitted call whose stream never comes keeps its slot (the service
 * expires it after CALL_ADMISSION_TTL_SECS).
 *
 *   PORT=... PUBLIC_BASE_URL=... DATABASE_URL=... UPSTREAM_URL=... FLOOR_ACCOUNT_SID=... FLOOR_AUTH_TOKEN=... tsx bench/floor-relay.ts
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { monitorEventLoopDelay, PerformanceObserver, performance } from "node:perf_hooks"
import pg from "pg"
import { WebSocket, WebSocketServer } from "ws"

const env = process.env
const port = Number(env.PORT ?? 6070)
const publicBase = env.PUBLIC_BASE_URL ?? `http://127.0.0.1:${port}`
const streamUrl = `${publicBase.replace(/^http/, "ws")}/media-stream`
const upstreamUrl = env.UPSTREAM_URL ?? "ws://127.0.0.1:6061/v1/realtime?model=gpt-realtime"
const openaiKey = env.OPENAI_API_KEY ?? "sk-bench"
// One replica: a secret of its own per start is enough (the service shares one between replicas).
const tokenSecret = env.STREAM_TOKEN_SECRET ?? randomBytes(32).toString("base64")
const tokenTtlMs = Number(env.STREAM_TOKEN_TTL_SECS ?? 60) * 1000
const MAX_FORM_BYTES = 16 * 1024
// `FLOOR_SPEND_COMMIT=off`: the token's spend without waiting for the WAL flush (a diagnosis of the
// tail only: the service keeps it synchronous, and so does the floor by default).
const spendCommit = env.FLOOR_SPEND_COMMIT === "off" ? ", set_config('synchronous_commit', 'off', true)" : ""

/**
 * `FLOOR_TIMINGS=1`: each step's duration in this process, and its event-loop delay and GC, printed
 * on exit as `floor timings:` (warm-up calls included): where the floor's own tail goes.
 */
const timings = env.FLOOR_TIMINGS === "1" ? new Map<string, Array<number>>() : undefined
const timed = (step: string, from: number) => timings?.get(step)?.push(performance.now() - from) ?? timings?.set(step, [performance.now() - from])
const loopDelay = monitorEventLoopDelay({ resolution: 1 })
let gcMs = 0
let gcMax = 0
if (timings !== undefined) {
  loopDelay.enable()
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcMs += entry.duration
      gcMax = Math.max(gcMax, entry.duration)
    }
  }).observe({ entryTypes: ["gc"] })
}
const printTimings = () => {
  if (timings === undefined) return
  const at = (sorted: Array<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!.toFixed(1)
  const steps = [...timings].map(([step, ms]) => {
    const sorted = [...ms].sort((a, b) => a - b)
    return `${step} n ${ms.length} p50 ${at(sorted, 0.5)} p99 ${at(sorted, 0.99)} max ${at(sorted, 1)}`
  })
  console.error(`floor timings: ${steps.join("; ")}; loop delay p50 ${(loopDelay.percentile(50) / 1e6).toFixed(1)} p99 ` +
    `${(loopDelay.percentile(99) / 1e6).toFixed(1)} max ${(loopDelay.max / 1e6).toFixed(1)} ms; GC ${gcMs.toFixed(0)} ms, longest ${gcMax.toFixed(1)} ms`)
}

// The service's pool: 10 connections opened at start and kept, JIT off (src/Database/Client.ts).
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 10, idleTimeoutMillis: 0, options: "-c jit=off -c TimeZone=UTC" })
pool.on("error", () => {})

const schema = `
  create table if not exists floor_tenants (
    tenant_id text primary key, account_sid text not null unique, auth_token text not null,
    max_calls int not null, active int not null default 0 check (active >= 0));
  create table if not exists floor_calls (
    call_sid text primary key, tenant_id text not null references floor_tenants, from_number text, to_number text,
    status text not null, token_id text not null, stream_sid text, created_at timestamptz not null default now(),
    started_at timestamptz, ended_at timestamptz, duration_seconds int);
  create index if not exists floor_calls_tenant on floor_calls (tenant_id, created_at desc);`

/**
 * Admission and record in one statement: a slot taken on the tenant's counter row (its row lock
 * serialises the tenant's admissions, as the service's advisory lock; the cap re-checked on the
 * latest row version), the ringing call inserted from it. A call SID seen before takes no slot.
 * Committed without waiting for the WAL flush (set in RETURNING: only when a row was written).
 */
const ADMIT = {
  name: "floor_admit",
  text: `with slot as (
      update floor_tenants set active = active + 1
      where tenant_id = $1 and active < max_calls and not exists (select 1 from floor_calls where call_sid = $2)
      returning tenant_id)
    insert into floor_calls (call_sid, tenant_id, from_number, to_number, status, token_id)
    select $2, tenant_id, $3, $4, 'ringing', $5 from slot
    on conflict (call_sid) do nothing
    returning set_config('synchronous_commit', 'off', true) as commit`
}
/** A frame's JSON, or undefined when it is not JSON (the socket is then closed, not the process). */
const parsed = <T>(data: unknown): T | undefined => {
  try {
    return JSON.parse(String(data)) as T
  } catch {
    return undefined
  }
}

/** A retried webhook (same call SID, still ringing) is answered again with its token id. */
const RINGING = { name: "floor_ringing", text: "select token_id from floor_calls where call_sid = $1 and tenant_id = $2 and stream_sid is null" }
/** The token's single use: only the first stream with it finds the row without a stream SID. Synchronous commit. */
const SPEND = {
  name: "floor_spend",
  text: `update floor_calls set status = 'in-progress', stream_sid = $3, started_at = now()
    where call_sid = $1 and token_id = $2 and stream_sid is null returning tenant_id${spendCommit}`
}
/** The call's end, durable, and its slot back. */
const END = {
  name: "floor_end",
  text: `with done as (
      update floor_calls set status = 'completed', ended_at = now(),
        duration_seconds = extract(epoch from now() - coalesce(started_at, created_at))::int
      where call_sid = $1 and ended_at is null returning tenant_id)
    update floor_tenants set active = active - 1 where tenant_id in (select tenant_id from done)`
}

interface Tenant {
  readonly tenantId: string
  readonly authToken: string
}
/** Twilio account SID -> tenant, loaded at start (the service caches the same lookup). */
const tenants = new Map<string, Tenant>()

const xml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
const twimlDocument = (body: string) => `<?xml version="1.0" encoding="UTF-8"?><Response>${body}</Response>`
const BUSY = twimlDocument("<Say>All lines are busy. Please call again later.</Say><Hangup/>")

/** Twilio's signature: base64 HMAC-SHA1 over the URL and each param name + value, names sorted. */
const twilioSignature = (authToken: string, url: string, params: URLSearchParams) => {
  let data = url
  for (const name of [...new Set(params.keys())].sort()) {
    for (const value of params.getAll(name).sort()) data += name + value
  }
  return createHmac("sha1", authToken).update(data, "utf8").digest()
}
const sameBytes = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b)

const tokenMac = (body: string) => createHmac("sha256", tokenSecret).update(body).digest("base64url")
/** `v1.<id>.<call SID>.<expiry ms>.<HMAC-SHA256>`: what the stream's `start` must bring back. */
const mintToken = (tokenId: string, callSid: string) => {
  const body = `v1.${tokenId}.${callSid}.${Date.now() + tokenTtlMs}`
  return `${body}.${tokenMac(body)}`
}
/** The token's id and call SID when its MAC holds and it has not expired. */
const verifyToken = (token: string): { tokenId: string; callSid: string } | undefined => {
  const parts = token.split(".")
  if (parts.length !== 5 || parts[0] !== "v1") return undefined
  const body = parts.slice(0, 4).join(".")
  if (!sameBytes(Buffer.from(parts[4]!, "base64url"), Buffer.from(tokenMac(body), "base64url"))) return undefined
  if (!(Date.now() < Number(parts[3]))) return undefined
  return { tokenId: parts[1]!, callSid: parts[2]! }
}

const answer = (response: ServerResponse, status: number, body: string) =>
  response.writeHead(status, { "content-type": status === 200 ? "text/xml" : "text/plain" }).end(body)

const webhook = async (request: IncomingMessage, response: ServerResponse, form: string) => {
  const params = new URLSearchParams(form)
  const tenant = tenants.get(params.get("AccountSid") ?? "")
  const given = request.headers["x-twilio-signature"]
  if (tenant === undefined || typeof given !== "string") return answer(response, 403, "forbidden")
  if (!sameBytes(Buffer.from(given, "base64"), twilioSignature(tenant.authToken, publicBase + request.url, params))) {
    return answer(response, 403, "forbidden")
  }
  const callSid = params.get("CallSid") ?? ""
  if (!/^CA[0-9a-f]{32}$/i.test(callSid)) return answer(response, 400, "bad CallSid")
  let tokenId = randomBytes(12).toString("base64url")
  const sent = performance.now()
  const admitted = await pool.query({ ...ADMIT, values: [tenant.tenantId, callSid, params.get("From"), params.get("To"), tokenId] })
  timed("admit statement", sent)
  if (admitted.rowCount === 0) {
    const ringing = await pool.query<{ token_id: string }>({ ...RINGING, values: [callSid, tenant.tenantId] })
    if (ringing.rows[0] === undefined) return answer(response, 200, BUSY)
    tokenId = ringing.rows[0].token_id
  }
  const parameters = [["stream_token", mintToken(tokenId, callSid)], ["tenant_id", tenant.tenantId], ["direction", "inbound"],
    ["caller", params.get("From") ?? ""], ["call_sid", callSid]]
  answer(response, 200, twimlDocument(`<Connect><Stream url="${xml(streamUrl)}">` +
    parameters.map(([name, value]) => `<Parameter name="${name}" value="${xml(value!)}"/>`).join("") + "</Stream></Connect>"))
}

const http = createServer((request, response) => {
  const arrived = performance.now()
  if (timings !== undefined) response.on("finish", () => timed("webhook in process", arrived))
  if (request.method !== "POST" || !request.url!.startsWith("/api/v1/incoming-call")) return answer(response, 404, "not found")
  const chunks: Array<Buffer> = []
  let size = 0
  request.on("data", (chunk: Buffer) => {
    size += chunk.length
    if (size > MAX_FORM_BYTES) {
      answer(response, 413, "too large")
      request.destroy()
    } else chunks.push(chunk)
  })
  request.on("end", () => {
    webhook(request, response, Buffer.concat(chunks).toString("utf8")).catch(() => {
      if (!response.headersSent) answer(response, 503, "unavailable")
    })
  })
})

const sessionUpdate = JSON.stringify({
  type: "session.update",
  session: {
    type: "realtime",
    instructions: "Be brief.",
    audio: {
      input: { format: { type: "audio/pcmu" }, turn_detection: { type: "server_vad" } },
      output: { format: { type: "audio/pcmu" }, voice: "alloy" }
    }
  }
})
const greet = JSON.stringify({ type: "response.create" })

interface StartEvent {
  readonly streamSid?: string
  readonly callSid?: string
  readonly customParameters?: Record<string, string>
}

const media = new WebSocketServer({ server: http, path: "/media-stream", maxPayload: 64 * 1024, clientTracking: false })
media.on("connection", (caller) => {
  let streamSid = ""
  let callSid = ""
  let upstream: WebSocket | undefined
  // Caller audio until the token is spent and the upstream open (then `held` is null).
  let held: Array<string> | null = []
  let closed = false
  let recorded = false
  /** The record's end, once, for a call whose token was spent. */
  const record = () => {
    if (callSid === "" || recorded) return
    recorded = true
    pool.query({ ...END, values: [callSid] }).catch((error) => console.error(`end ${callSid}: ${error}`))
  }
  const end = () => {
    closed = true
    upstream?.close()
    record()
  }
  const refuse = () => {
    callSid = ""
    upstream?.close()
    caller.close(1008, "invalid stream token")
  }
  const accept = async (start: StartEvent) => {
    const started = performance.now()
    const claims = verifyToken(start.customParameters?.stream_token ?? "")
    if (claims === undefined || claims.callSid !== start.callSid || typeof start.streamSid !== "string") return refuse()
    streamSid = start.streamSid
    // Opened while the token is spent (a verified token only: no upstream for a forged one).
    const ws = new WebSocket(upstreamUrl, { headers: { Authorization: `Bearer ${openaiKey}` }, perMessageDeflate: false })
    upstream = ws
    ws.on("error", () => caller.close())
    ws.on("close", () => caller.close())
    ws.on("message", (data) => {
      const event = parsed<{ type?: string; delta?: string }>(data)
      if (event === undefined) return ws.close()
      if (event.type === "response.output_audio.delta" && typeof event.delta === "string") {
        caller.send(JSON.stringify({ event: "media", streamSid, media: { payload: event.delta } }))
      }
    })
    const opened = new Promise<boolean>((resolve) => {
      ws.once("open", () => {
        timed("upstream open", started)
        resolve(true)
      })
      ws.once("error", () => resolve(false))
    })
    const spent = await pool.query({ ...SPEND, values: [claims.callSid, claims.tokenId, streamSid] }).then((r) => r.rowCount === 1, () => false)
    timed("spend statement", started)
    if (!spent) return refuse()
    callSid = claims.callSid
    if (closed) return end()
    if (!(await opened)) return caller.close()
    ws.send(sessionUpdate)
    ws.send(greet)
    for (const append of held!) ws.send(append)
    held = null
    timed("start -> accepted in process", started)
  }
  caller.on("message", (data) => {
    const message = parsed<{ event?: string; start?: StartEvent; media?: { payload?: string } }>(data)
    if (message === undefined) return caller.close(1003, "not JSON")
    switch (message.event) {
      case "start":
        if (upstream === undefined && message.start !== undefined) void accept(message.start)
        break
      case "media": {
        const append = JSON.stringify({ type: "input_audio_buffer.append", audio: message.media?.payload ?? "" })
        if (held === null) upstream!.send(append)
        else if (held.length < 500) held.push(append)
        break
      }
      case "stop":
        caller.close()
        break
    }
  })
  caller.on("close", end)
  caller.on("error", () => {})
})

const main = async () => {
  await pool.query(schema)
  const tenantId = env.FLOOR_TENANT_ID ?? "bench"
  await pool.query(
    `insert into floor_tenants (tenant_id, account_sid, auth_token, max_calls) values ($1, $2, $3, $4)
     on conflict (tenant_id) do update set account_sid = excluded.account_sid, auth_token = excluded.auth_token, max_calls = excluded.max_calls`,
    [tenantId, env.FLOOR_ACCOUNT_SID, env.FLOOR_AUTH_TOKEN, Number(env.TENANT_MAX_CONCURRENT_CALLS ?? 20)]
  )
  // Calls of a previous run on this database that never ended give their slots back.
  await pool.query("update floor_tenants t set active = (select count(*) from floor_calls c where c.tenant_id = t.tenant_id and c.ended_at is null and c.stream_sid is not null)")
  const rows = await pool.query<{ tenant_id: string; account_sid: string; auth_token: string }>("select tenant_id, account_sid, auth_token from floor_tenants")
  for (const row of rows.rows) tenants.set(row.account_sid, { tenantId: row.tenant_id, authToken: row.auth_token })
  // The pool's connections opened now, not by the first burst.
  const clients = await Promise.all(Array.from({ length: 10 }, () => pool.connect()))
  for (const client of clients) client.release()
  http.listen(port, env.HOST ?? "127.0.0.1", () => console.log(`floor relay on ${port}`))
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})

// Exit normally on SIGTERM so `--cpu-prof` can write its profile.
process.on("SIGTERM", () => {
  printTimings()
  process.exit(0)
})
