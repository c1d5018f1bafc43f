/** `bench:rest`'s tables: each case's service and bare figures on one row, with the ratios. */
import type { LoadResult } from "./open-loop.js"
import type { BodyCheck } from "./rest-cases.js"

export interface Measured {
  readonly name: string
  readonly rate: number
  readonly svc: LoadResult
  /** PostgreSQL backends' CPU ms per request of the process's connections. */
  readonly svcPg: number
  readonly bare: LoadResult
  readonly barePg: number
  readonly check: BodyCheck
  /** Load average (1, 5, 15 min) after the pair. */
  readonly load: string
}

const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "-")
const pair = (a: number, b: number, digits = 1) => `${f(a, digits)} / ${f(b, digits)}`
const ratio = (a: number, b: number) => (b > 0 ? `${f(a / b, 2)}x` : "-")

export const printTable = (rows: ReadonlyArray<Measured>) => {
  console.log("\nEach cell: service / bare. Ratios: service / bare. pg: the PostgreSQL backends' CPU of the process's connections.")
  console.log("| case | offered/s | achieved/s | p50 ms | p99 ms | p99 ratio | CPU ms/req | CPU ratio | pg ms/req | non-2xx | " +
    "largest body KB | same body | items (first path) | load 1/5/15 |")
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
  for (const r of rows) {
    console.log(`| ${r.name} | ${r.rate} | ${pair(r.svc.achieved, r.bare.achieved, 0)} | ${pair(r.svc.p50, r.bare.p50)} | ` +
      `${pair(r.svc.p99, r.bare.p99)} | ${ratio(r.svc.p99, r.bare.p99)} | ` +
      `${pair(r.svc.cpuMsPerRequest, r.bare.cpuMsPerRequest, 2)} | ${ratio(r.svc.cpuMsPerRequest, r.bare.cpuMsPerRequest)} | ` +
      `${pair(r.svcPg, r.barePg, 2)} | ${r.svc.errors} / ${r.bare.errors} | ` +
      `${pair(r.svc.maxBytes / 1024, r.bare.maxBytes / 1024)} | ${r.check.same} | ${r.check.items} | ${r.load} |`)
  }
}

/** Item 5: resident memory back within 20 % of idle after the load. */
export const printRss = (rss: { readonly idle: number; readonly highest: number; readonly after5: number; readonly after30: number }) => {
  const vsIdle = (mb: number) => `${mb.toFixed(0)} MB (${f(mb / rss.idle, 2)}x idle)`
  const within = rss.after30 <= rss.idle * 1.2
  console.log(`\nservice RSS: idle (after seeding and one request per case) ${rss.idle.toFixed(0)} MB; highest during the cases ` +
    `${vsIdle(rss.highest)}; 5 s after the last case ${vsIdle(rss.after5)}; 30 s after ${vsIdle(rss.after30)}: ` +
    `${within ? "within" : "NOT within"} 20 % of idle`)
}
