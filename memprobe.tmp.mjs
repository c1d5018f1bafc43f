const mods = process.argv.slice(2)
const mb = (n) => (n / 1048576).toFixed(0)
global.gc?.()
let base = process.memoryUsage()
console.log("base rss", mb(base.rss), "heap", mb(base.heapUsed))
for (const m of mods) {
  await import(m)
  global.gc?.()
  const now = process.memoryUsage()
  console.log(m, "rss", mb(now.rss), "heap", mb(now.heapUsed), "ext", mb(now.external))
}
