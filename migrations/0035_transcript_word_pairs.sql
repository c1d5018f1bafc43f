-- Transcript search by a rare phrase of common words (issue 13): "ing the order", "agent asked".
-- The trigram index keeps a word's trigrams but not which word follows which, so for such a
-- phrase it returns nearly every call, each rechecked with ILIKE (~1 s at 100,000 calls).
--
-- `search_word_pairs(t)` lists each two neighbouring words of a text as the first word's last
-- three characters, a blank and the second word's first three ("ing the", "the ord"). A word
-- is a run of characters other than ASCII controls, blanks and punctuation (every character
-- beyond ASCII counts as a letter, so the split is the same before and after lower()). Any
-- text holding a term holds the pairs the term shows both edges of (CallLogs/TranscriptPairs.ts
-- derives them), so `search_word_pairs(lower(t)) @> pairs` is implied by `t ILIKE '%term%'`:
-- a prefilter, every candidate still rechecked with the ILIKE. Words of one or two characters
-- are whole in their pair. Duplicates are left in: GIN removes them.
create function search_word_pairs(t text) returns text[] language sql immutable strict parallel safe cost 1000 as $$
  select array(select right(a, 3) || ' ' || left(b, 3)
    from (select array_remove(regexp_split_to_array(t collate "C", '[\x01-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+'), '') as w) s,
      unnest(w, w[2:]) as p(a, b) where b is not null)
$$;

-- Beside the tenant, as the gram index (0031); of the lowered text, as ILIKE compares it.
-- An expression index: no rewrite of the wide table, the pairs computed once per written row.
create index call_logs_transcript_pairs_idx on call_logs using gin (tenant_id, search_word_pairs(lower(transcript_text)));
