/**
 * A small reader of the OpenMetrics text format, written from the specification (not from
 * our renderer): checks the framing (`# TYPE` before a family's samples, `# EOF` last) and
 * returns every sample, so tests can look numbers up by name and labels.
 */
export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g
const SUFFIXES = ["_total", "_bucket", "_count", "_sum", "_created"]

export const parseOpenMetrics = (text: string): Array<Sample> => {
  const lines = text.split("\n")
  if (lines.pop() !== "" || lines[lines.length - 1] !== "# EOF") throw new Error("OpenMetrics text must end with '# EOF\\n'")
  const families = new Set<string>()
  const samples: Array<Sample> = []
  for (const line of lines.slice(0, -1)) {
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|unknown|info|stateset|gaugehistogram)$/.exec(line)
    if (type !== null) {
      if (families.has(type[1]!)) throw new Error(`family ${type[1]} declared twice`)
      families.add(type[1]!)
      continue
    }
    if (line.startsWith("# HELP ") || line.startsWith("# UNIT ")) continue
    const match = SAMPLE.exec(line)
    if (match === null) throw new Error(`not an OpenMetrics line: ${line}`)
    const name = match[1]!
    const family = SUFFIXES.reduce((n, s) => (families.has(n) ? n : n.endsWith(s) ? n.slice(0, -s.length) : n), name)
    if (!families.has(family)) throw new Error(`sample ${name} has no # TYPE before it`)
    const labels: Record<string, string> = {}
    for (const [, key, value] of (match[2] ?? "").matchAll(LABEL)) {
      labels[key!] = value!.replace(/\\n/g, "\n").replace(/\\"/g, "\"").replace(/\\\\/g, "\\")
    }
    const raw = match[3]!
    samples.push({ name, labels, value: raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw) })
  }
  return samples
}

/** The sum of the samples named `name` whose labels include `labels` (0 when there are none). */
export const valueOf = (samples: ReadonlyArray<Sample>, name: string, labels: Record<string, string> = {}): number =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0)
