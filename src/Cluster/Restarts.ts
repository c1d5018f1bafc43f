/** Deaths older than this no longer slow a replacement down. */
export const DEATH_WINDOW_MS = 60_000
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
