/**
 * Collections in a `--trace-gc-nvp` log (bench/gc-pauses.ts reads a file of it, bench/rest-ab.ts a
 * service's stdout during each case): each line's time in the process, kind, pause, and what a
 * scavenge copied (survived in the young generation + promoted to the old).
 */
export interface Collection {
  readonly atMs: number
  readonly kind: string
  readonly pause: number
  readonly copied: number
  readonly allocated: number
}

const field = (line: string, name: string) => Number(new RegExp(`\\b${name}=([\\d.]+)`).exec(line)?.[1] ?? NaN)

/** The collection a trace line reports, or undefined for any other line. */
export const parseGcLine = (line: string): Collection | undefined => {
  const at = /\s(\d+) ms: pause=/.exec(line)
  const kind = /\bgc=(\w+)/.exec(line)?.[1]
  if (at === null || kind === undefined) return undefined
  return {
    atMs: Number(at[1]),
    kind,
    pause: field(line, "pause"),
    copied: (field(line, "new_space_survived") || 0) + (field(line, "promoted") || 0),
    allocated: field(line, "allocated") || 0
  }
}

const pct = (values: ReadonlyArray<number>, p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

/** Per kind (s = scavenge, mc = mark-compact, ...): count, pause sum, p50, p90 and max, bytes copied and allocated. */
export const gcSummary = (collections: ReadonlyArray<Collection>) =>
  [...new Set(collections.map((c) => c.kind))].map((kind) => {
    const of = collections.filter((c) => c.kind === kind)
    const pauses = of.map((c) => c.pause)
    return {
      kind,
      count: of.length,
      pauseSum: pauses.reduce((a, b) => a + b, 0),
      p50: pct(pauses, 50),
      p90: pct(pauses, 90),
      max: Math.max(...pauses),
      copiedP50: pct(of.map((c) => c.copied), 50),
      copiedMax: Math.max(...of.map((c) => c.copied)),
      allocated: of.reduce((a, c) => a + c.allocated, 0)
    }
  })
