// Preloaded into the service under test (NODE_OPTIONS="--require ./bench/count-statements.cjs"
// with STATEMENT_COUNT_FILE=path): counts every statement the process sends through `pg`, by its
// first words, and writes the histogram to the file (every second and at exit). Exact and
// load-independent, unlike CPU time. Only the process running scripts/start.mjs counts.
const fs = require("node:fs")
const file = process.env.STATEMENT_COUNT_FILE
if (file && process.argv.some((a) => a.endsWith("scripts/start.mjs"))) {
  const pg = require("pg")
  const counts = new Map()
  const head = (text) => String(text).replace(/\s+/g, " ").trim().slice(0, 70)
  const original = pg.Client.prototype.query
  pg.Client.prototype.query = function (config, ...rest) {
    const text = typeof config === "string" ? config : config && config.text
    const key = head(text)
    // STATEMENT_SAMPLE_FILE: the full text of the first statement of each kind, to read what was sent.
    if (process.env.STATEMENT_SAMPLE_FILE && !counts.has(key)) fs.appendFileSync(process.env.STATEMENT_SAMPLE_FILE, `${text}\n\n`)
    counts.set(key, (counts.get(key) ?? 0) + 1)
    return original.call(this, config, ...rest)
  }
  const dump = () => {
    const rows = [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n}\t${k}`)
    fs.writeFileSync(file, rows.join("\n") + "\n")
  }
  process.on("exit", dump)
  setInterval(dump, 1000).unref()
}
