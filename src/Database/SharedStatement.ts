/**
 * Several statements of data-modifying CTEs (StatementParts.ts `composeStatement`, compiled) as
 * one: each statement's parts renamed for its slot, its placeholders renumbered after the ones
 * before it, its final select tagged with its slot. One round trip and one commit for all of
 * them (group commit, CallLogs/RecordBatches.ts); each slot's row is its statement's answer.
 */

/** A compiled `with <parts> <select>` statement: `select` starts at `selectAt`; `names` are its parts'. */
export interface Shareable {
  readonly text: string
  readonly params: ReadonlyArray<unknown>
  readonly names: ReadonlyArray<string>
  readonly selectAt: number
}

/**
 * Whether `text` can share a statement: it starts with `with `, and every `$` in it is a
 * placeholder (renumbering would change any other). A part's name is renamed only where it is
 * written quoted (`"recorded_call"`, as `composeStatement` writes each part's own name): a part
 * read by a bare name would then name no relation, and the shared statement fails loudly (and
 * is run again statement by statement) rather than read another slot's part.
 */
export const shareable = (text: string, selectAt: number): boolean =>
  text.startsWith("with ") && selectAt > 5 && !/\$(?!\d)/.test(text)

/** The slot's renamed parts and final select: kept per text (a call's record has a few shapes). */
interface Slotted {
  readonly id: number
  readonly slots: Array<{ readonly offset: number; readonly parts: string; readonly select: string }>
}

const MAX_TEXTS = 64
const MAX_COMBINED = 256

const escape = (name: string) => name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/**
 * A composer with its caches: texts seen are renamed once per slot; a combination of texts
 * (by their ids) gives the same combined text object each time (its prepared name is looked up
 * by it). Parameters are renumbered per slot from the statement's own count.
 */
export const makeSharedStatements = () => {
  const texts = new Map<string, Slotted>()
  const combined = new Map<string, string>()
  let nextId = 0

  const renamed = (statement: Shareable, slot: number, offset: number) => {
    let seen = texts.get(statement.text)
    if (seen === undefined) {
      if (texts.size >= MAX_TEXTS) {
        texts.clear()
        combined.clear()
      }
      seen = { id: nextId++, slots: [] }
      texts.set(statement.text, seen)
    }
    // The offset is the parameter count of the statements before it in this batch.
    const kept = seen.slots[slot]
    if (kept !== undefined && kept.offset === offset) return kept
    const quoted = new RegExp(`(?<![.\\w"])"(${statement.names.map(escape).join("|")})"`, "g")
    const rewrite = (text: string) =>
      text.replace(quoted, (_, name: string) => `"${name}__${slot}"`)
        .replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`)
    const made = {
      offset,
      parts: rewrite(statement.text.slice(5, statement.selectAt).trimEnd()),
      select: `select ${slot} as slot, ` + rewrite(statement.text.slice(statement.selectAt).replace(/^\s*select\s+/, ""))
    }
    seen.slots[slot] = made
    return made
  }

  /** One statement for `statements` (in slot order): one row per slot, `slot` first. */
  return (statements: ReadonlyArray<Shareable>): readonly [text: string, params: ReadonlyArray<unknown>] => {
    const params: Array<unknown> = []
    const parts: Array<string> = []
    const selects: Array<string> = []
    const ids: Array<number> = []
    for (let slot = 0; slot < statements.length; slot++) {
      const statement = statements[slot]!
      const made = renamed(statement, slot, params.length)
      ids.push(texts.get(statement.text)!.id)
      parts.push(made.parts)
      selects.push(made.select)
      for (const param of statement.params) params.push(param)
    }
    const key = ids.join(",")
    let text = combined.get(key)
    if (text === undefined) {
      if (combined.size >= MAX_COMBINED) combined.clear()
      text = `with ${parts.join(",\n")}\n${selects.join("\nunion all ")}`
      combined.set(key, text)
    }
    return [text, params]
  }
}
