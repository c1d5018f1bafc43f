import * as M from "../Observability/Metrics.js"
import { connectRealtime, type RealtimeHandler, RealtimeSocket } from "./RealtimeSocket.js"

export interface SparePoolSettings {
  /** Spares kept per URL. */
  readonly perUrl: number
  readonly maxAgeMs: number
  readonly idleMs: number
  readonly connectTimeoutMs: number
  readonly apiKey: string
  readonly now: () => number
  /** The replica is draining: spares are closed and none is opened or handed over. */
  readonly draining: () => boolean
}

type Outcome = "used" | "missed" | "discarded" | "failed" | "expired"

/** Made once: a counter update per outcome needs no label array per call. */
const outcomeLabels: Record<Outcome, ReadonlyArray<ReturnType<typeof M.label>>> = {
  used: [M.label("outcome", "used")],
  missed: [M.label("outcome", "missed")],
  discarded: [M.label("outcome", "discarded")],
  failed: [M.label("outcome", "failed")],
  expired: [M.label("outcome", "expired")]
}

const count = (outcome: Outcome): void => M.upstreamSpares.unsafeUpdate(1, outcomeLabels[outcome])

/**
 * After a spare could not open or the server closed (or spoke on) one, the URL's next opening
 * waits this long: a server refusing every socket gets one attempt per URL per 5 s, not a loop.
 */
const RETRY_AFTER_MS = 5_000

// Module level: a scheduled top-up keeps no closure.
const topUpLater = (pool: SparePool, spares: UrlSpares): void => pool.topUpLater(spares)

/** Models are a short list in practice; spares for more URLs than this are not kept. */
const MAX_URLS = 16

/** One URL's spares: the open ones, oldest first, and the openings in flight. */
class UrlSpares {
  readonly ready: Array<Spare> = []
  readonly openings = new Set<() => void>()
  retryAt = 0
  /** A top-up is scheduled (`setImmediate`): one per URL however many calls take at once. */
  topUpPending = false

  constructor(readonly url: string, public wantedAt: number) {}
}

/**
 * One unused socket, watching what the server says before a call takes it. What the call's
 * bridge ignores (`session.created`, anything it does not decode) is dropped here; audio or an
 * event the bridge acts on (`error`, `response.*`) spoils the spare, and so does the server
 * closing it: it is discarded, never handed to a call.
 */
class Spare implements RealtimeHandler {
  constructor(
    readonly socket: RealtimeSocket,
    readonly openedAt: number,
    private readonly spares: UrlSpares,
    private readonly pool: SparePool
  ) {
    socket.attach(this)
  }

  audio(): void {
    this.pool.discard(this.spares, this, true)
  }

  event(): void {
    this.pool.discard(this.spares, this, true)
  }

  lost(): void {
    this.pool.discard(this.spares, this, false)
  }
}

/**
 * Upstream sockets opened before a call needs them, per realtime URL (the URL names the model;
 * the key is the platform's). A URL gets spares once a call has asked for it, keeps `perUrl`
 * of them while calls keep asking, and loses them after `idleMs` without one. A taken spare is
 * replaced at once, in the background; an unused one is replaced at `maxAgeMs`. Nothing is ever
 * sent on a spare: the call that takes it parks it until it is held (UpstreamOpening.park), as an
 * upstream it opened itself. Plain code: `take` runs on the call's set-up path.
 */
export class SparePool {
  private readonly byUrl = new Map<string, UrlSpares>()
  private closed = false

  constructor(private readonly settings: SparePoolSettings) {}

  /** Whether spares are kept at all (a count, a key). */
  get enabled(): boolean {
    return this.settings.perUrl > 0 && this.settings.apiKey !== ""
  }

  /**
   * A ready spare for `url`, holding for its next handler whatever arrives from now on, or
   * undefined (the call opens its own); either way `url`'s spares are topped up.
   */
  take(url: string): RealtimeSocket | undefined {
    if (!this.enabled || this.closed || this.settings.draining()) return undefined
    const now = this.settings.now()
    let spares = this.byUrl.get(url)
    if (spares === undefined) {
      // The call opens its own, as on any miss; the metric must say so for every URL.
      if (this.byUrl.size >= MAX_URLS) {
        count("missed")
        return undefined
      }
      this.byUrl.set(url, spares = new UrlSpares(url, now))
    }
    spares.wantedAt = now
    let taken: RealtimeSocket | undefined
    while (taken === undefined && spares.ready.length > 0) {
      const spare = spares.ready.shift()!
      if (spare.socket.isOpen && now - spare.openedAt < this.settings.maxAgeMs) taken = spare.socket
      else this.expire(spare)
    }
    count(taken === undefined ? "missed" : "used")
    taken?.detach()
    if (!spares.topUpPending) {
      spares.topUpPending = true
      setImmediate(topUpLater, this, spares)
    }
    return taken
  }

  /**
   * Tops `spares` up after the I/O already waiting: the call that took (or missed) one opens its
   * own socket first, and a burst's set-ups are not held up by replacements' openings.
   */
  topUpLater(spares: UrlSpares): void {
    spares.topUpPending = false
    if (this.closed || this.settings.draining() || this.byUrl.get(spares.url) !== spares) return
    this.topUp(spares, this.settings.now())
  }

  /** Expires old spares, lets idle URLs go, tops the rest up; closes everything once draining. */
  tick(): void {
    if (this.closed) return
    if (this.settings.draining()) return this.closeAll()
    const now = this.settings.now()
    for (const [url, spares] of this.byUrl) {
      if (now - spares.wantedAt >= this.settings.idleMs) {
        this.release(spares)
        this.byUrl.delete(url)
        continue
      }
      for (const spare of spares.ready.slice()) {
        if (now - spare.openedAt >= this.settings.maxAgeMs) {
          spares.ready.splice(spares.ready.indexOf(spare), 1)
          this.expire(spare)
        }
      }
      this.topUp(spares, now)
    }
  }

  /** Closes every spare and opening; none is opened again. */
  closeAll(): void {
    this.closed = true
    for (const spares of this.byUrl.values()) this.release(spares)
    this.byUrl.clear()
  }

  /** A spare the server closed or spoke on: dropped (closed, if it was not), replaced after a pause. */
  discard(spares: UrlSpares, spare: Spare, spoken: boolean): void {
    const at = spares.ready.indexOf(spare)
    if (at === -1) return
    spares.ready.splice(at, 1)
    if (spoken) spare.socket.close()
    spares.retryAt = this.settings.now() + RETRY_AFTER_MS
    count("discarded")
  }

  private expire(spare: Spare): void {
    spare.socket.close()
    count("expired")
  }

  private release(spares: UrlSpares): void {
    for (const spare of spares.ready) this.expire(spare)
    spares.ready.length = 0
    for (const cancel of spares.openings) cancel()
    spares.openings.clear()
  }

  private topUp(spares: UrlSpares, now: number): void {
    if (now < spares.retryAt) return
    while (spares.ready.length + spares.openings.size < this.settings.perUrl) {
      if (!this.open(spares)) return
    }
  }

  private open(spares: UrlSpares): boolean {
    const { apiKey, connectTimeoutMs } = this.settings
    let cancel: () => void
    try {
      cancel = connectRealtime(spares.url, apiKey, connectTimeoutMs, (result) => {
        spares.openings.delete(cancel)
        if (!(result instanceof RealtimeSocket)) {
          spares.retryAt = this.settings.now() + RETRY_AFTER_MS
          return count("failed")
        }
        // Let go while it opened (closed, draining, the URL idle): not kept.
        if (this.closed || this.settings.draining() || this.byUrl.get(spares.url) !== spares) return result.close()
        spares.ready.push(new Spare(result, this.settings.now(), spares, this))
      })
    } catch {
      // `ws` refused the URL: the calls that use it open their own (and fail as they do today).
      spares.retryAt = this.settings.now() + RETRY_AFTER_MS
      count("failed")
      return false
    }
    spares.openings.add(cancel)
    return true
  }
}
