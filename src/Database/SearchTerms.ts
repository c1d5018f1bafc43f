/**
 * One or two characters (code points): no trigram, so the gram index answers it (migration
 * 0031). PostgreSQL's lower() maps characters one to one here (libc), so the lowered term has
 * as many characters as the term.
 */
export const isGram = (term: string) => {
  const length = [...term].length
  return length >= 1 && length <= 2
}

/** `ILIKE` pattern matching `text` anywhere, its `\`, `%` and `_` taken literally. */
export const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
