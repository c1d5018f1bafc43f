// Preload for bench/context-copies.ts: counts the Map entries copied by `new Map(aMap)`, which is
// how Effect copies a fiber's Context (`Context.add`, `Context.merge`); SIGUSR2 writes the counts
// to stderr and resets them. Not for production: every Map becomes this subclass.
const Original = globalThis.Map
let copies = 0
let entries = 0
let large = 0
globalThis.Map = class CountingMap extends Original {
  constructor(iterable) {
    super(iterable)
    if (iterable instanceof Original) {
      copies++
      entries += iterable.size
      if (iterable.size >= 50) large++
    }
  }
}
process.on("SIGUSR2", () => {
  process.stderr.write(`MAP_COPIES ${JSON.stringify({ copies, entries, large })}\n`)
  copies = 0
  entries = 0
  large = 0
})
