/**
 * `sampleWaits` (bench/postgres.ts) in a process of its own, so a load generator's busy event
 * loop does not thin out the samples: prints the shares as one JSON line and exits.
 *
 *   npx tsx bench/wait-sampler.ts <admin url> <database> <milliseconds>
 */
import pg from "pg"
import { sampleWaits } from "./postgres.js"

const [url, database, ms] = process.argv.slice(2)
const admin = new pg.Client({ connectionString: url })
await admin.connect()
console.log(JSON.stringify(await sampleWaits(admin, database!, Date.now() + Number(ms))))
await admin.end()
