/**
 * A seeded generator (mulberry32) for randomised tests, so a failure can be replayed from its
 * seed: `random()` in [0, 1), `int(n)` in [0, n), `pick(items)`.
 */
export const seededRandom = (seed: number) => {
  let state = seed
  const random = () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(random() * n)
  const pick = <A>(items: ReadonlyArray<A>): A => items[int(items.length)]!
  return { random, int, pick } as const
}
