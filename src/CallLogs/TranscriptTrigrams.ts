import type { SqlClient } from "@effect/sql/SqlClient"
import { Clock, Duration, Effect, Ref } from "effect"
import { likePairs } from "./TranscriptPairs.js"

/**
 * How many calls the trigram index (migration 0010, over every tenant's transcripts) returns
 * for a term, estimated from a sample of transcripts: the index cannot tell, and the planner
 * guesses a handful for any ILIKE. A phrase of common words ("ing the order") has ~70,000
 * candidates of 100,000 that must each be rechecked (~11 µs of lower() each); an order number
 * has a few (bench/RESULTS.md). Only the plan depends on it, never the answer.
 */
export interface TrigramSample {
  /** Calls in the table: PostgreSQL's estimate, or the sample's size before the first analyse. */
  readonly tableRows: number
  readonly sampledRows: number
  /** Sampled calls whose transcript holds each trigram (pg_trgm's show_trgm spelling). */
  readonly calls: ReadonlyMap<string, number>
  /** Sampled calls whose transcript holds each word pair (migration 0035, TranscriptPairs.ts). */
  readonly pairs: ReadonlyMap<string, number>
}

/** Rows read to estimate a share: enough for the 1/30 the window needs (~17 of them). */
const SAMPLE_ROWS = 500
/** Transcripts change slowly in bulk. */
const SAMPLE_TTL = Duration.minutes(10)

const wordPattern = /[\p{L}\p{N}]+/gu
/** pg_trgm spells a trigram with a character outside ASCII as a hash: those are not looked up. */
const plainAscii = /^[\x20-\x7e]+$/

const trigramsOf = (padded: string): ReadonlyArray<string> =>
  Array.from({ length: Math.max(0, padded.length - 2) }, (_, i) => padded.slice(i, i + 3))

/**
 * The trigrams pg_trgm requires of a text for `ilike '%term%'`, in show_trgm's spelling: per
 * word (letters and digits), lowered, padded with two blanks before and one after where the
 * term shows the word's edge (a word at the term's start or end may continue in the text).
 */
export const likeTrigrams = (term: string): ReadonlyArray<string> => {
  const lowered = term.toLowerCase()
  return Array.from(lowered.matchAll(wordPattern)).flatMap((match) => {
    const end = match.index + match[0].length
    return trigramsOf(`${match.index > 0 ? "  " : ""}${match[0]}${end < lowered.length ? " " : ""}`)
  }).filter((trigram) => plainAscii.test(trigram))
}

/** The words of a term (3+ characters), each a narrower `ilike` the whole term implies. */
export const wordsOf = (term: string): ReadonlyArray<string> =>
  Array.from(term.matchAll(wordPattern), (m) => m[0]).filter((word) => [...word].length >= 3)

/**
 * Estimated share of all calls the index returns for these trigrams: the rarest one's share
 * (the index intersects them). 1 when none is known (no trigram, or only hashed ones): the
 * safe guess, since treating a common term as rare rechecks the whole table.
 */
export const candidateShare = (sample: TrigramSample, trigrams: ReadonlyArray<string>, keys = sample.calls) =>
  trigrams.length === 0 || sample.sampledRows === 0
    ? 1
    : Math.min(...trigrams.map((trigram) => (keys.get(trigram) ?? 0) / sample.sampledRows))

const noSample: TrigramSample = { tableRows: 0, sampledRows: 0, calls: new Map(), pairs: new Map() }

/**
 * The sample, read at the first search (which waits for it: ~50-300 ms of PostgreSQL, mostly
 * show_trgm) and again in the background once ten minutes old, searches meanwhile using the
 * one before. A failed first read counts as no sample for ten minutes: every term is then
 * taken as common, the plan before this estimate.
 */
export const makeTrigramSample = (sql: SqlClient) =>
  Effect.gen(function*() {
    const read = Effect.gen(function*() {
      const [table] = yield* sql<{ rows: number }>`select reltuples::float8 as rows from pg_class
        where oid = 'call_logs'::regclass`
      // reltuples is -1 until the table is analysed: then all of it, up to twice the sample.
      const estimatedRows = table?.rows ?? -1
      const percent = estimatedRows <= SAMPLE_ROWS ? 100 : (100 * SAMPLE_ROWS) / estimatedRows
      // One sample, three answers: its size (the row with no key), each trigram's and each word pair's calls.
      const rows = yield* sql<{ pair: boolean; key: string | null; calls: number }>`
        with sampled as materialized (
          select transcript_text from call_logs tablesample system (${percent}) limit ${2 * SAMPLE_ROWS})
        select false as pair, null as key, count(*)::int as calls from sampled
        union all
        select false, trigram, count(*)::int from sampled, unnest(show_trgm(transcript_text)) trigram group by trigram
        union all
        select true, pair, count(*)::int from sampled,
          lateral (select distinct unnest(search_word_pairs(lower(transcript_text)))) pairs(pair) group by pair`
      const calls = new Map<string, number>()
      const pairs = new Map<string, number>()
      let sampledRows = 0
      for (const row of rows) {
        if (row.key === null) sampledRows = row.calls
        else (row.pair ? pairs : calls).set(row.key, row.calls)
      }
      return { tableRows: estimatedRows > 0 ? estimatedRows : sampledRows, sampledRows, calls, pairs } satisfies TrigramSample
    }).pipe(Effect.flatMap((sample) => Effect.map(Clock.currentTimeMillis, (takenAt) => ({ sample, takenAt }))))
    const first = yield* Effect.cached(
      Effect.catchAll(read, () => Effect.map(Clock.currentTimeMillis, (takenAt) => ({ sample: noSample, takenAt })))
    )
    const latest = yield* Ref.make<{ readonly sample: TrigramSample; readonly takenAt: number } | undefined>(undefined)
    const refreshing = yield* Ref.make(false)
    // A failed refresh keeps the sample it would have replaced; the next search tries again.
    const refresh = read.pipe(
      Effect.flatMap((taken) => Ref.set(latest, taken)),
      Effect.ignore,
      Effect.ensuring(Ref.set(refreshing, false))
    )
    return Effect.gen(function*() {
      const kept = yield* Ref.get(latest)
      if (kept === undefined) {
        const taken = yield* first
        yield* Ref.update(latest, (current) => current ?? taken)
        return taken.sample
      }
      const now = yield* Clock.currentTimeMillis
      if (now - kept.takenAt > Duration.toMillis(SAMPLE_TTL) && !(yield* Ref.getAndSet(refreshing, true))) {
        yield* Effect.forkDaemon(refresh)
      }
      return kept.sample
    })
  })

/**
 * How to find a page of a term's calls: `RecentFirst` reads the newest calls first (`window`
 * calls, `windowPerRow` per row of the page), which answers a common term, and every match
 * only when that does not fill the page; `EveryMatch` goes to the index at once when the
 * window could not fill the page even if every candidate in it matched, and the index's
 * candidates in all the table are fewer than the window's calls (the index spans every
 * tenant: a word rare in the table may fill one tenant's window). Its `narrowedTo` is the
 * term's rarest word when that word alone is about as rare: the index then reads its
 * trigrams' posting lists only, not those of a word in every call ("order").
 * `pairs`: every match is found through the word-pair index (TranscriptPairs.ts) by these
 * pairs, for a term whose pairs are rarer than its trigrams (a phrase of common words): the
 * trigram index would return nearly every call, each to be rechecked. A term rare by its
 * trigrams keeps the trigram index, as before.
 */
export type SearchPlan =
  | { readonly _tag: "RecentFirst"; readonly pairs: ReadonlyArray<string> | undefined }
  | {
    readonly _tag: "EveryMatch"
    readonly narrowedTo: string | undefined
    readonly pairs: ReadonlyArray<string> | undefined
  }

/** Of these keys, the rarest ones: within twice the rarest's share, or two sampled calls (the sample's noise). */
const aboutAsRare = <A>(sample: TrigramSample, items: ReadonlyArray<{ item: A; share: number }>) => {
  const least = Math.min(...items.map((i) => i.share))
  return items.filter((i) => i.share <= Math.max(2 * least, 2 / sample.sampledRows)).map((i) => i.item)
}

export const searchPlan = (sample: TrigramSample, term: string, window: number, windowPerRow: number): SearchPlan => {
  const tooCommon = (share: number) => share * windowPerRow >= 1 || share * sample.tableRows > window
  const share = candidateShare(sample, likeTrigrams(term))
  const pairs = likePairs(term)
  const pairShare = candidateShare(sample, pairs, sample.pairs)
  const byPairs = pairs.length > 0 && pairShare < share
    ? aboutAsRare(sample, pairs.map((pair) => ({ item: pair, share: candidateShare(sample, [pair], sample.pairs) })))
    : undefined
  if (tooCommon(share)) {
    return byPairs !== undefined && !tooCommon(pairShare)
      ? { _tag: "EveryMatch", narrowedTo: undefined, pairs: byPairs }
      : { _tag: "RecentFirst", pairs: byPairs }
  }
  const words = wordsOf(term).map((word) => ({ item: word, share: candidateShare(sample, likeTrigrams(word)) }))
  const rarest = words.length === 0 ? undefined : words.reduce((a, b) => b.share < a.share ? b : a)
  // "About as rare": within twice the term's share, or two sampled calls.
  const narrow = rarest !== undefined && rarest.item !== term &&
    rarest.share <= Math.max(2 * share, 2 / sample.sampledRows)
  return { _tag: "EveryMatch", narrowedTo: narrow ? rarest.item : undefined, pairs: undefined }
}
