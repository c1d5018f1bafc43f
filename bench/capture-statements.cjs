// Preloaded into the service under test (NODE_OPTIONS="--require <this file>" with
// STATEMENT_CAPTURE_FILE=path): every statement the process sends through `pg`, as one JSON line
// {client, name, text, values}, for bench/call-replay.ts to replay a call's statements exactly.
const fs = require("node:fs")
const file = process.env.STATEMENT_CAPTURE_FILE
if (file && process.argv.some((a) => a.endsWith("main.js") || a.endsWith("start.mjs"))) {
  const pg = require("pg")
  const original = pg.Client.prototype.query
  let clients = 0
  const ids = new WeakMap()
  pg.Client.prototype.query = function (config, ...rest) {
    if (!ids.has(this)) ids.set(this, ++clients)
    const text = typeof config === "string" ? config : config && config.text
    const values = typeof config === "object" && config !== null && config.values !== undefined ? config.values : Array.isArray(rest[0]) ? rest[0] : undefined
    const name = typeof config === "object" && config !== null ? config.name : undefined
    const plain = values === undefined ? undefined : values.map((v) => v instanceof Date ? v.toISOString() : Buffer.isBuffer(v) ? { bytes: v.toString("hex") } : v)
    fs.appendFileSync(file, JSON.stringify({ client: ids.get(this), name, text, values: plain }) + "\n")
    return original.call(this, config, ...rest)
  }
}
