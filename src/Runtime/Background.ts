import { Effect, Scheduler } from "effect"
import { performance } from "node:perf_hooks"

/**
 * The scheduler of work no set-up waits on: a call's end (its record, its close; CallClosing.ts).
 * Effect's default scheduler runs a resumed fiber in the microtasks right after the I/O callback
 * that resumed it, so a burst of ends runs before the loop reads the next webhook body or `start`
 * frame. Here a resumed fiber runs from `setImmediate` instead: after the I/O callbacks the loop
 * already has ready, in slices of at most `sliceMs` with the loop's I/O served between two slices.
 * It cannot starve: every turn of the loop runs at least one task, and a pass over ready I/O
 * is bounded (libuv's poll phase), so a deferred task waits for at most one such pass per slice.
 */
export class YieldingScheduler implements Scheduler.Scheduler {
  private queue: Array<Scheduler.Task> = []
  private next = 0
  private scheduled = false

  constructor(private readonly sliceMs: number) {}

  readonly shouldYield = Scheduler.defaultShouldYield

  scheduleTask(task: Scheduler.Task): void {
    this.queue.push(task)
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.runSlice)
    }
  }

  /** Tasks in arrival order (one a fiber's continuation) until the slice's time is spent. */
  private readonly runSlice = (): void => {
    const until = performance.now() + this.sliceMs
    do {
      const task = this.queue[this.next]!
      this.queue[this.next++] = undefined!
      task()
    } while (this.next < this.queue.length && performance.now() < until)
    if (this.next < this.queue.length) {
      setImmediate(this.runSlice)
      return
    }
    this.queue = []
    this.next = 0
    this.scheduled = false
  }
}

/** One per process: the slices of every background fiber share the loop's turns. */
export const backgroundScheduler: Scheduler.Scheduler = new YieldingScheduler(2)

/** `effect` (and the fibers it forks) resumed on the background scheduler. */
export const inBackground = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.withScheduler(effect, backgroundScheduler)
