-- Conditional requests for paginated APIs (issue 15). Owned by repack-catalog. Mirrored in
-- migrations/postgres/20261220000001_feed_state_next_url.sql: keep the two in step.

-- For a page of a paginated API (GitHub's releases), the next page's URL as the `Link`
-- header of its last 200 named it: a 304 carries no body and need not repeat the header,
-- so a check that reuses the kept page finds the next one here. NULL for the last page and
-- for every other document.
ALTER TABLE feed_state ADD COLUMN next_url TEXT;
