import { performance } from "node:perf_hooks"

/**
 * Deadlines that all lie the same `limitMs` after they were set (the calls' max duration), on
 * one timer. Set in order, they come due in that order: a Map (insertion order) is the queue and
 * one timer waits for its head. A Node Timeout per call (with its arguments) was ~0.23 KB per
 * live call (bench/RESULTS.md).
 */
export class Deadlines<K> {
  /** Due time (ms on performance.now's clock, whole: a small integer, not a boxed number) by key. */
  private readonly pending = new Map<K, number>()
  private timer: ReturnType<typeof setTimeout> | undefined = undefined

  constructor(private readonly limitMs: number, private readonly expire: (key: K) => void) {}

  /** `expire(key)` runs `limitMs` from now unless `clear(key)` comes first. */
  set(key: K): void {
    this.pending.delete(key)
    this.pending.set(key, Math.ceil(performance.now()) + this.limitMs)
    if (this.timer === undefined) this.arm()
  }

  clear(key: K): void {
    if (!this.pending.delete(key) || this.pending.size > 0 || this.timer === undefined) return
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private arm(): void {
    for (const due of this.pending.values()) {
      this.timer = setTimeout(this.fire, Math.max(0, due - performance.now()))
      return
    }
  }

  private readonly fire = (): void => {
    this.timer = undefined
    const now = performance.now()
    for (const [key, due] of this.pending) {
      if (due > now) break
      this.pending.delete(key)
      this.expire(key)
    }
    if (this.timer === undefined && this.pending.size > 0) this.arm()
  }
}
