/**
 * A jsonb column selected as text (`col::text`) written as `JSON.stringify(JSON.parse(text))`
 * would write it (what the schema path does with the value `pg` parses), without building the
 * value: ~6x cheaper on a page of transcripts (bench/RESULTS.md, "Rows").
 *
 * PostgreSQL's jsonb output is canonical: outside strings the only whitespace is the one space
 * after `,` and `:`, and strings are escaped as JSON.stringify escapes them (`\"`, `\\`, `\b`
 * `\f` `\n` `\r` `\t`, other controls as lowercase `\u00xx`; no lone surrogates in UTF-8). So
 * the spaces are dropped and strings copied; a number is rewritten only where JavaScript's
 * rendering can differ (a fraction or exponent, or more than 15 digits: `1.50`, `1e21`). An
 * object key that is an array index (`"10"`) would move to the front of a JavaScript object,
 * so such a value takes the parse-and-stringify path.
 */
export const compactJsonb = (text: string): string => {
  let out = ""
  let from = 0
  let i = 0
  const n = text.length
  while (i < n) {
    const ch = text.charCodeAt(i)
    if (ch === QUOTE) {
      const end = stringEnd(text, i)
      if (text.charCodeAt(end + 1) === COLON && isDigit(text.charCodeAt(i + 1)) && ARRAY_INDEX.test(text.slice(i + 1, end))) {
        return JSON.stringify(JSON.parse(text))
      }
      i = end + 1
    } else if (ch === SPACE) {
      out += text.slice(from, i)
      from = ++i
    } else if (ch === MINUS || isDigit(ch)) {
      let j = i + 1
      while (j < n && isNumberChar(text.charCodeAt(j))) j++
      const token = text.slice(i, j)
      // Rewritten only where JavaScript writes it otherwise (`1.50`, `1e-05`; a float8's shortest
      // digits are JavaScript's): the text is then copied once, not once per number.
      const written = PLAIN_INTEGER.test(token) ? token : JSON.stringify(Number(token))
      if (written !== token) {
        out += text.slice(from, i) + written
        from = j
      }
      i = j
    } else {
      i++
    }
  }
  return from === 0 ? text : out + text.slice(from)
}

const QUOTE = 34
const COLON = 58
const SPACE = 32
const MINUS = 45
const BACKSLASH = 92
/** A property name JavaScript orders first (a canonical array index). */
const ARRAY_INDEX = /^(?:0|[1-9]\d*)$/
/** An integer JavaScript writes back digit for digit (below 2^53). */
const PLAIN_INTEGER = /^-?\d{1,15}$/

const isDigit = (ch: number) => ch >= 48 && ch <= 57
const isNumberChar = (ch: number) => isDigit(ch) || ch === 46 || ch === 101 || ch === 69 || ch === 43 || ch === MINUS

/** The index of the quote closing the string opened at `start` (one preceded by an even run of backslashes). */
export const stringEnd = (text: string, start: number) => {
  let end = text.indexOf("\"", start + 1)
  while (text.charCodeAt(end - 1) === BACKSLASH) {
    let backslashes = 0
    for (let k = end - 1; text.charCodeAt(k) === BACKSLASH; k--) backslashes++
    if (backslashes % 2 === 0) break
    end = text.indexOf("\"", end + 1)
  }
  return end
}
