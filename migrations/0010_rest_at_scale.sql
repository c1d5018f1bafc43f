-- REST at scale (issue 13): rows rendered as JSON by PostgreSQL for list pages, rollups that
-- answer statistics without scanning history, and trigram indexes for transcript search.

-- A timestamp as the API writes it (JavaScript's Date#toISOString: UTC, milliseconds
-- truncated, "Z"), so JSON built here is the same text the service would have written.
create function ssv_iso(ts timestamptz) returns text
  language sql stable parallel safe
  return to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
