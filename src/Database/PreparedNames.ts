import { createHash } from "node:crypto"

/**
 * Prepared statements a `pg` connection keeps for its life, one per name (pg refuses a name
 * already used for another text). One executor names at most this many texts; past them a
 * text runs unnamed, so every connection of the pool holds a bounded number of them.
 */
const MAX_NAMES = 8

export interface PreparedNames {
  readonly nameOf: (text: string) => string | undefined
}

/**
 * Names for statement texts, derived from the text (a hash), so executors sharing a pool
 * never give one name to two texts; undefined past `max` (MAX_NAMES unless said).
 */
export const makePreparedNames = (max: number = MAX_NAMES): PreparedNames => {
  const names = new Map<string, string>()
  return {
    nameOf: (text: string): string | undefined => {
      const known = names.get(text)
      if (known !== undefined || names.size >= max) return known
      const name = `ssv_${createHash("sha256").update(text).digest("hex").slice(0, 32)}`
      names.set(text, name)
      return name
    }
  }
}
