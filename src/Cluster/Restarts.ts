/** Deaths older than this no longer slow a replacement down. */
const DEATH_WINDOW_MS = 60_000
const MAX_DELAY_MS = 30_000

/**
 * How long to wait before replacing a worker that died, given when workers died (this one
 * included): a lone crash is replaced at once; crashes in a row back off 1 s, 2 s, 4 s ... up
 * to 30 s, so a build that crashes on every call keeps serving and never spins.
 */
export const replacementDelayMs = (deaths: ReadonlyArray<number>, now: number): number => {
  const recent = deaths.filter((at) => now - at < DEATH_WINDOW_MS).length
  return recent <= 1 ? 0 : Math.min(MAX_DELAY_MS, 1000 * 2 ** (recent - 2))
}

/**
 * Notes a worker's death at `now` in `deaths` (the supervisor's list, pruned here of deaths past
 * the window so it stays short however long the service runs) and says how long to wait before
 * replacing the worker.
 */
export const noteDeath = (deaths: Array<number>, now: number): number => {
  deaths.push(now)
  while (deaths.length > 0 && now - deaths[0]! >= DEATH_WINDOW_MS) deaths.shift()
  return replacementDelayMs(deaths, now)
}
