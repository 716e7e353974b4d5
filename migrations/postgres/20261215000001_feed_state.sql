-- Politeness and freshness (issue 15) on PostgreSQL: the same tables, constraints and
-- indexes as migrations/sqlite/20261215000001_feed_state.sql (keep the two in step).
--
-- Times are TEXT in the catalogue's fixed RFC 3339 form; text columns are COLLATE "C" so
-- ordering and comparisons match SQLite's.

-- The copy of each feed document a watcher read, by upstream URL: the body and validators
-- of the last 200, so the next check asks "If-None-Match / If-Modified-Since" and a 304
-- reuses the body. The body is capped at the largest feed cap (16 MiB) by the catalogue.
CREATE TABLE feed_state (
    url           TEXT COLLATE "C" NOT NULL PRIMARY KEY CHECK (url <> ''),
    etag          TEXT COLLATE "C",
    last_modified TEXT COLLATE "C",
    body          TEXT COLLATE "C" NOT NULL,
    -- When the body arrived (the last 200).
    stored_at     TEXT COLLATE "C" NOT NULL,
    -- The last good check of this URL: a 200, or a 304 confirming the body.
    checked_at    TEXT COLLATE "C" NOT NULL,
    -- A copy without a validator could never be revalidated.
    CHECK (etag IS NOT NULL OR last_modified IS NOT NULL)
);

-- Each upstream release a check found newest, with when the upstream published it (when the
-- feed says) and when repack first and last saw it: the lag between the two is freshness.
CREATE TABLE releases_seen (
    recipe        TEXT COLLATE "C" NOT NULL CHECK (recipe <> ''),
    version       TEXT COLLATE "C" NOT NULL CHECK (version <> ''),
    iso_url       TEXT COLLATE "C" NOT NULL CHECK (iso_url <> ''),
    -- NULL for a release whose upstream publishes no checksum (it cannot be built).
    iso_sha256    TEXT COLLATE "C" CHECK (iso_sha256 IS NULL OR length(iso_sha256) = 64),
    published_at  TEXT COLLATE "C",
    first_seen_at TEXT COLLATE "C" NOT NULL,
    last_seen_at  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (recipe, version, iso_url)
);

CREATE INDEX releases_seen_by_recipe ON releases_seen (recipe, last_seen_at);

-- Since when a recipe's checks fail: the first failure after the last success. Rows failing
-- when this migration runs start from their latest error (the earliest time still known).
ALTER TABLE checks ADD COLUMN failing_since TEXT COLLATE "C";
UPDATE checks SET failing_since = last_error_at WHERE consecutive_failures > 0;
