// Preload for bench/context-copies.ts: counts the Map entries copied by `new Map(aMap)`, which is
// how Effect copies a fiber's Context (`Context.add`, `Context.merge`); SIGUSR2 writes the counts
// to stderr and resets them. Not for production: every Map becomes this subclass.
// MAP_COPIES_STACKS=1 also counts the call sites of the large copies (50+ entries) and writes
// the most frequent ones with the counts.
const Original = globalThis.Map
const stacks = process.env.MAP_COPIES_STACKS === "1" ? new Original() : undefined
let copies = 0
let entries = 0
let large = 0
globalThis.Map = class CountingMap extends Original {
  constructor(iterable) {
    super(iterable)
    if (iterable instanceof Original) {
      copies++
      entries += iterable.size
      if (iterable.size >= 50) {
        large++
        if (stacks !== undefined) {
          const site = (new Error().stack ?? "").split("\n").slice(2, 14).map((line) => line.trim()).join(" <- ")
          stacks.set(site, (stacks.get(site) ?? 0) + 1)
        }
      }
    }
  }
}
process.on("SIGUSR2", () => {
  process.stderr.write(`MAP_COPIES ${JSON.stringify({ copies, entries, large })}\n`)
  if (stacks !== undefined) {
    const top = [...stacks].sort((a, b) => b[1] - a[1]).slice(0, 12)
    for (const [site, n] of top) process.stderr.write(`MAP_COPY_SITE ${n} ${site}\n`)
    stacks.clear()
  }
  copies = 0
  entries = 0
  large = 0
})
