/**
 * The word pairs a transcript must hold to contain a term (migration 0035 `search_word_pairs`):
 * for two neighbouring words, the first one's last three characters, a blank and the second
 * one's first three. The trigram index cannot narrow a phrase of words found in every call
 * ("ing the order", "agent asked"); its pairs ("ing the", "the ord", "ent ask") can.
 *
 * Words are split at ASCII controls, blanks and punctuation, as in SQL; every character beyond
 * ASCII is part of a word on both sides of lower(), so the term splits as its match in the
 * lowered text does. Between two words of the term there is only punctuation, so in any match
 * the same two words are neighbours of the text. A pair is known when the term shows enough of
 * each side: three characters, or the whole word (a separator on its far side in the term).
 * Pairs with a character beyond ASCII are left out: PostgreSQL lowers those by its locale.
 */
const separators = /[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+/
const plainAscii = /^[\x20-\x7e]+$/
const PAIR_SIDE = 3

interface TermWord {
  readonly chars: ReadonlyArray<string>
  /** The term shows where the word starts (a separator before it), and where it ends. */
  readonly startShown: boolean
  readonly endShown: boolean
}

/** The pairs every transcript holding `term` (ILIKE) holds, lowered, without repeats. */
export const likePairs = (term: string): ReadonlyArray<string> => {
  const parts = term.split(separators)
  // Only the first and last part can be empty: the term starts or ends with a separator.
  const words: Array<TermWord> = parts.flatMap((part, i) =>
    part === "" ? [] : [{ chars: [...part], startShown: i > 0, endShown: i < parts.length - 1 }]
  )
  const pairs = words.slice(1).flatMap((second, i) => {
    const first = words[i]!
    const end = first.chars.length >= PAIR_SIDE || first.startShown ? first.chars.slice(-PAIR_SIDE) : undefined
    const start = second.chars.length >= PAIR_SIDE || second.endShown ? second.chars.slice(0, PAIR_SIDE) : undefined
    if (end === undefined || start === undefined) return []
    const pair = `${end.join("")} ${start.join("")}`
    return plainAscii.test(pair) ? [pair.toLowerCase()] : []
  })
  return [...new Set(pairs)]
}
