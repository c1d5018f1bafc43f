/**
 * Open-loop load: requests are sent on a fixed schedule whatever the server does (rate R for S
 * seconds), and each latency is measured from the moment the request was due, so a server that
 * falls behind shows its queueing delay instead of slowing the generator down.
 *
 * The generator is lean so that it does not take the CPU the measured server needs (two cores,
 * shared with PostgreSQL): raw keep-alive sockets (a fixed pool, one request in flight on each,
 * no pipelining), request bytes built once per path, responses parsed only as far as the status
 * and the body's length, one timer per wake-up sending every request due by then. Node's
 * http.Agent client cost ~4x as much CPU per request (bench/load-gen.ts measures both).
 * Responses are read into one reused buffer (net's `onread`): a 50-row page is 20-70 KB, and a
 * new buffer per read (node's default) made the generator's heap see ~33 MB/s of external
 * memory at 500/s, which V8 answered with mark-compacts of up to 14 ms in the generator, each
 * one added to the latency of the responses that arrived meanwhile (bench/list-tail.ts).
 * OPEN_LOOP_ALLOC_READS=1 restores node's per-read buffers (for comparing the two).
 */
import * as net from "node:net"
import { cpuSeconds, rssMb } from "./proc.js"

export interface LoadResult {
  readonly offered: number
  readonly achieved: number
  readonly p50: number
  readonly p99: number
  readonly errors: number
  readonly maxBytes: number
  /** Service CPU milliseconds per completed request (user + system, from /proc). */
  readonly cpuMsPerRequest: number
  /** Requests answered (any status) or failed. */
  readonly completed: number
  /**
   * 99th percentile of how late the generator's timer let it issue a request (ms after it was
   * due; waiting for a free connection not included): the generator's own share of p99.
   */
  readonly sendLagP99: number
  /** This process's (the generator's) CPU milliseconds per completed request. */
  readonly generatorCpuMsPerRequest: number
  readonly rssMb: number
  /** Per request (index = its place in the schedule), when asked for with `record`. */
  readonly records?: Timeline
}

/**
 * Each request's moments, wall-clock ms since the epoch (performance.timeOrigin + now), so that
 * another process's marks (bench/loop-marks.mjs) line up with them: when it was due, when the
 * generator wrote it (NaN if never), when its response was read whole (NaN if it failed).
 */
export interface Timeline {
  readonly due: Float64Array
  readonly sent: Float64Array
  readonly done: Float64Array
  readonly status: Int16Array
}

export const percentile = (sorted: ArrayLike<number>, p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!

const CRLF_CRLF = Buffer.from("\r\n\r\n")

/** What one response's head says about the body that follows it. */
interface Head {
  readonly status: number
  readonly headBytes: number
  /** Body length, or -1 for a chunked body. */
  readonly length: number
}

const parseHead = (buffer: Buffer): Head | undefined => {
  const end = buffer.indexOf(CRLF_CRLF)
  if (end < 0) return undefined
  const text = buffer.toString("latin1", 0, end).toLowerCase()
  const status = Number(text.slice(9, 12))
  const cl = /\r\ncontent-length:\s*(\d+)/.exec(text)
  const length = cl !== null ? Number(cl[1]) : /\r\ntransfer-encoding:[^\r]*chunked/.test(text) ? -1 : 0
  return { status, headBytes: end + 4, length }
}

/**
 * The end of a chunked body starting at `from` in `buffer`, or -1 while it is incomplete
 * (the whole body is kept until its last chunk arrives: these are list pages, tens of KB).
 */
const chunkedEnd = (buffer: Buffer, from: number): number => {
  let at = from
  for (;;) {
    const lineEnd = buffer.indexOf("\r\n", at, "latin1")
    if (lineEnd < 0) return -1
    const size = parseInt(buffer.toString("latin1", at, lineEnd), 16)
    if (size === 0) {
      const trailerEnd = buffer.indexOf(CRLF_CRLF, lineEnd, "latin1")
      return trailerEnd < 0 ? -1 : trailerEnd + 4
    }
    at = lineEnd + 2 + size + 2
    if (at > buffer.length) return -1
  }
}

/** One kept-alive connection carrying one request at a time. */
interface Connection {
  readonly socket: net.Socket
  busy: boolean
  due: number
  index: number
  pending: Buffer | undefined
  head: Head | undefined
  bodyRead: number
}

export const openLoop = async (options: {
  readonly port: number
  readonly paths: ReadonlyArray<string>
  readonly headers: Record<string, string>
  readonly rate: number
  readonly seconds: number
  /** The measured server's pid (its CPU is read from /proc); omit to skip. */
  readonly pid?: number
  /** Connections in the pool (default 64): more than the server ever has in flight at a sane rate. */
  readonly connections?: number
  readonly timeoutMs?: number
  /** Keep each request's due, sent and done times (`records` in the result). */
  readonly record?: boolean
}): Promise<LoadResult> => {
  const headerLines = Object.entries(options.headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")
  const requests = options.paths.map((p) =>
    Buffer.from(`GET ${p} HTTP/1.1\r\nhost: 127.0.0.1:${options.port}\r\n${headerLines}\r\n`, "latin1")
  )
  const total = Math.round(options.rate * options.seconds)
  const latencies = new Float64Array(total)
  const lags = new Float64Array(total)
  const origin = performance.timeOrigin
  const records: Timeline | undefined = options.record === true
    ? { due: new Float64Array(total), sent: new Float64Array(total).fill(NaN), done: new Float64Array(total).fill(NaN), status: new Int16Array(total) }
    : undefined
  let served = 0
  let errors = 0
  let finished = 0
  let maxBytes = 0
  const queue: Array<{ readonly index: number; readonly due: number }> = []
  let queueHead = 0
  const idle: Array<Connection> = []
  let done!: () => void
  const allDone = new Promise<void>((resolve) => (done = resolve))

  const finish = (conn: Connection, status: number, bytes: number) => {
    const now = performance.now()
    if (records !== undefined) {
      records.done[conn.index] = origin + now
      records.status[conn.index] = status
    }
    if (status === 200) latencies[served++] = now - conn.due
    else errors++
    maxBytes = Math.max(maxBytes, bytes)
    conn.busy = false
    conn.head = undefined
    conn.bodyRead = 0
    if (++finished === total) done()
    else next(conn)
  }

  const onData = (conn: Connection, chunk: Buffer) => {
    let buffer = conn.pending === undefined ? chunk : Buffer.concat([conn.pending, chunk])
    conn.pending = undefined
    for (;;) {
      if (conn.head === undefined) {
        const head = parseHead(buffer)
        // Copied: `buffer` may be the reused read buffer.
        if (head === undefined) return void (conn.pending = Buffer.from(buffer))
        conn.head = head
        buffer = buffer.subarray(head.headBytes)
        conn.bodyRead = 0
      }
      const head = conn.head
      if (head.length >= 0) {
        const need = head.length - conn.bodyRead
        if (buffer.length < need) return void (conn.bodyRead += buffer.length)
        const rest = buffer.subarray(need)
        finish(conn, head.status, head.length)
        if (rest.length === 0) return
        buffer = rest
      } else {
        const end = chunkedEnd(buffer, 0)
        if (end < 0) return void (conn.pending = Buffer.from(buffer))
        const rest = buffer.subarray(end)
        finish(conn, head.status, end)
        if (rest.length === 0) return
        buffer = rest
      }
    }
  }

  const send = (conn: Connection, index: number, due: number) => {
    conn.busy = true
    conn.due = due
    conn.index = index
    if (records !== undefined) records.sent[index] = origin + performance.now()
    conn.socket.write(requests[index % requests.length]!)
  }

  // A freed connection takes the oldest queued request, else waits in `idle`.
  const next = (conn: Connection) => {
    if (queueHead < queue.length) {
      const item = queue[queueHead++]!
      send(conn, item.index, item.due)
    } else idle.push(conn)
  }

  // Requests still waiting for a connection once none can carry them fail (otherwise the run
  // would wait for them for ever: a saturated server at the timeout, or every socket closed).
  const failQueued = () => {
    const left = queue.length - queueHead
    queueHead = queue.length
    errors += left
    finished += left
    if (left > 0 && finished === total) done()
  }

  // One read buffer for every connection: each read is parsed before the next can arrive.
  const readBuffer = Buffer.allocUnsafe(256 * 1024)
  const allocReads = process.env.OPEN_LOOP_ALLOC_READS === "1"
  const connections = await Promise.all(
    Array.from({ length: options.connections ?? 64 }, () =>
      new Promise<Connection>((resolve, reject) => {
        const onread = { buffer: readBuffer, callback: (n: number, buf: Uint8Array) => {
          onData(conn, Buffer.from(buf.buffer, buf.byteOffset, n))
          return true
        } }
        const socket = net.connect({ host: "127.0.0.1", port: options.port, noDelay: true, ...(allocReads ? {} : { onread }) })
        const conn: Connection = { socket, busy: false, due: 0, index: 0, pending: undefined, head: undefined, bodyRead: 0 }
        socket.once("connect", () => resolve(conn))
        socket.once("error", reject)
        if (allocReads) socket.on("data", (chunk: Buffer) => onData(conn, chunk))
      })
    )
  )
  for (const conn of connections) {
    conn.socket.removeAllListeners("error")
    // A dropped connection fails its request; the run goes on with the others.
    conn.socket.on("error", () => {})
    conn.socket.on("close", () => {
      const i = idle.indexOf(conn)
      if (i >= 0) idle.splice(i, 1)
      if (conn.busy) {
        conn.busy = false
        errors++
        if (++finished === total) done()
      }
      if (connections.every((c) => c.socket.destroyed)) failQueued()
    })
    idle.push(conn)
  }

  const cpuBefore = options.pid === undefined ? 0 : cpuSeconds(options.pid)
  const ownBefore = process.cpuUsage()
  const start = performance.now()
  const interval = 1000 / options.rate
  let sent = 0
  // One timer per wake-up: everything due by now goes out, then sleep until the next is due.
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now()
      while (sent < total && start + sent * interval <= now) {
        const due = start + sent * interval
        lags[sent] = now - due
        if (records !== undefined) records.due[sent] = origin + due
        const conn = idle.pop()
        if (conn !== undefined) send(conn, sent, due)
        else queue.push({ index: sent, due })
        sent++
      }
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()))
      else resolve()
    }
    tick()
  })
  const timeout = setTimeout(() => {
    for (const conn of connections) conn.socket.destroy()
    failQueued()
  }, options.timeoutMs ?? 30_000)
  await allDone
  clearTimeout(timeout)
  const elapsed = (performance.now() - start) / 1000
  const own = process.cpuUsage(ownBefore)
  const cpu = options.pid === undefined ? NaN : cpuSeconds(options.pid) - cpuBefore
  for (const conn of connections) conn.socket.destroy()
  const sorted = latencies.subarray(0, served).sort()
  return {
    offered: options.rate,
    achieved: Math.round(served / elapsed),
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    sendLagP99: percentile(lags.sort(), 0.99),
    errors,
    completed: finished,
    maxBytes,
    cpuMsPerRequest: finished === 0 ? NaN : (cpu * 1000) / finished,
    generatorCpuMsPerRequest: finished === 0 ? NaN : (own.user + own.system) / 1000 / finished,
    rssMb: options.pid === undefined ? NaN : rssMb(options.pid),
    ...(records !== undefined ? { records } : {})
  }
}
