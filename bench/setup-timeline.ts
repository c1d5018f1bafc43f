/**
 * One burst as a timeline (bench/setup.ts `--timeline`): per 100 ms from the burst's start, the
 * calls that arrived (webhook sent), their TwiML (busy answers apart), upgrades sent, 101s,
 * starts accepted and failures, then what was in flight at the bucket's end as the generator saw it:
 * webhooks without TwiML, upgrades without 101, upgraded streams without their accepted start. With
 * `--marks`, the target's loop blocks and GC in the bucket (sum and longest, ms).
 */
import type { Mark } from "./setup-marks.js"
import { f, pct, type Timings } from "./setup-call.js"

/** A target's CONNMARK line (bench/conn-marks.mjs): a connection accepted or an upgrade emitted, by client port. */
export interface ConnMark { readonly kind: "accept" | "upgrade"; readonly port: number; readonly at: number }

export const connMarkReader = () => {
  const conns: Array<ConnMark> = []
  let partial = ""
  return {
    conns,
    read: (chunk: string) => {
      const lines = (partial + chunk).split("\n")
      partial = lines.pop()!
      for (const line of lines) {
        const match = /^CONNMARK (accept|upgrade) (\d+) ([\d.]+)$/.exec(line)
        if (match !== null) conns.push({ kind: match[1] as ConnMark["kind"], port: Number(match[2]), at: Number(match[3]) })
      }
    }
  }
}

const BUCKET_MS = 100

export const timeline = (label: string, from: number, timings: ReadonlyArray<Timings>, marks: ReadonlyArray<Mark>, conns: ReadonlyArray<ConnMark>) => {
  // Each upgrade's connection as the target saw it: the first accept and upgrade of its port after it was sent.
  const byPort = new Map<number, Array<ConnMark>>()
  for (const c of conns) byPort.set(c.port, [...(byPort.get(c.port) ?? []), c])
  const seen = timings.map((t) => {
    const marks = t.port === undefined ? [] : (byPort.get(t.port) ?? []).filter((c) => c.at >= t.upgradeSent! - 5)
    const acceptAt = marks.find((c) => c.kind === "accept")?.at
    const upgradeAt = marks.find((c) => c.kind === "upgrade" && c.at >= (acceptAt ?? 0))?.at
    return { acceptAt, upgradeAt }
  })
  const end = Math.max(...timings.map((t) => Math.max(t.sent ?? 0, t.failedAt ?? 0, (t.upgradeSent ?? 0) + (t.accepted ?? t.upgrade ?? 0))))
  const buckets = Math.ceil((end - from) / BUCKET_MS) + 1
  const at = (epoch: number | undefined) => (epoch === undefined ? -1 : Math.floor((epoch - from) / BUCKET_MS))
  const count = (pick: (t: Timings) => number | undefined) => {
    const out = new Array<number>(buckets).fill(0)
    for (const t of timings) {
      const b = at(pick(t))
      if (b >= 0 && b < buckets) out[b]!++
    }
    return out
  }
  const busy = (t: Timings) => t.failed?.includes("busy") === true
  const arrived = count((t) => t.sent)
  const twiml = count((t) => (t.webhook === undefined ? undefined : t.sent! + t.webhook))
  const busyAnswers = count((t) => (busy(t) ? t.failedAt : undefined))
  const upgrades = count((t) => t.upgradeSent)
  const opened = count((t) => (t.upgrade === undefined ? undefined : t.upgradeSent! + t.upgrade))
  const acceptedAt = (t: Timings) => (t.accepted === undefined ? undefined : t.upgradeSent! + t.accepted)
  const accepted = count(acceptedAt)
  const failed = count((t) => (busy(t) ? undefined : t.failedAt))
  const seenAt = new Map(timings.map((t, i) => [t, seen[i]!]))
  const connected = count((t) => t.connected)
  const targetAccepts = count((t) => seenAt.get(t)!.acceptAt)
  const targetUpgrades = count((t) => seenAt.get(t)!.upgradeAt)
  const segment = (a: (t: Timings) => number | undefined, b: (t: Timings) => number | undefined) =>
    timings.map((t) => { const x = a(t), y = b(t); return x === undefined || y === undefined ? NaN : y - x }).filter(Number.isFinite)
  const segments = ([
    ["upgrade sent -> connected (generator)", (t: Timings) => t.upgradeSent, (t: Timings) => t.connected],
    ["connected -> accepted by the target", (t: Timings) => t.connected, (t: Timings) => seenAt.get(t)!.acceptAt],
    ["accepted -> target's 'upgrade' event", (t: Timings) => seenAt.get(t)!.acceptAt, (t: Timings) => seenAt.get(t)!.upgradeAt],
    ["'upgrade' event -> 101 at the generator", (t: Timings) => seenAt.get(t)!.upgradeAt, (t: Timings) => (t.upgrade === undefined ? undefined : t.upgradeSent! + t.upgrade)]
  ] as const).map(([name, a, b]) => { const v = segment(a, b); return `${name} n ${v.length} p50 ${f(pct(v, 50))} p90 ${f(pct(v, 90))} p99 ${f(pct(v, 99))} max ${f(Math.max(...v))} ms` })
  // In flight at a moment: begun and not yet done (a failure ends every step it had not finished).
  const inFlight = (begin: (t: Timings) => number | undefined, done: (t: Timings) => number | undefined, edge: number) =>
    timings.filter((t) => {
      const b = begin(t)
      if (b === undefined || b > edge) return false
      const d = done(t) ?? t.failedAt
      return d === undefined || d > edge
    }).length
  const lines = [`${label}: the upgrade's steps: ${segments.join("; ")}`,
    `${label}: timeline per ${BUCKET_MS} ms (in flight at each bucket's end, as the generator saw it)`,
    "| t ms | arrived | TwiML | busy | upgrade sent | connected | target accepted | target 'upgrade' | 101 | accepted start | other failures | webhooks in flight | upgrades in flight | streams before accepted start | target loop blocks + GC ms (longest) |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
  for (let b = 0; b < buckets; b++) {
    const edge = from + (b + 1) * BUCKET_MS
    const held = marks.filter((m) => m.start >= edge - BUCKET_MS && m.start < edge && !m.what.startsWith("generator"))
    const sum = held.reduce((s, m) => s + m.ms, 0)
    const longest = held.reduce((s, m) => Math.max(s, m.ms), 0)
    lines.push(`| ${b * BUCKET_MS} | ${arrived[b]} | ${twiml[b]} | ${busyAnswers[b]} | ${upgrades[b]} | ${connected[b]} | ${targetAccepts[b]} | ${targetUpgrades[b]} | ${opened[b]} | ${accepted[b]} | ${failed[b]} | ` +
      `${inFlight((t) => t.sent, (t) => (t.webhook === undefined ? undefined : t.sent! + t.webhook), edge)} | ` +
      `${inFlight((t) => t.upgradeSent, (t) => (t.upgrade === undefined ? undefined : t.upgradeSent! + t.upgrade), edge)} | ` +
      `${inFlight((t) => (t.upgrade === undefined ? undefined : t.upgradeSent! + t.upgrade), acceptedAt, edge)} | ` +
      `${held.length === 0 ? "-" : `${sum.toFixed(0)} (${longest.toFixed(0)})`} |`)
  }
  return lines.join("\n")
}
