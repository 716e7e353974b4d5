-- The catalogue on PostgreSQL: the same tables, constraints and indexes as
-- migrations/sqlite/20261125000001_catalog.sql (keep the two in step).
--
-- Portable by design: TEXT timestamps in RFC 3339 UTC with a fixed six-digit fraction, so
-- text order is time order; BIGINT for every integer (read as i64 on both backends).
-- Every text column is COLLATE "C": byte-wise comparison and ORDER BY, as SQLite's default
-- BINARY collation, whatever locale the database was created with.

-- One row per published build. A build is identified by its key (ISO sha256, recipe hash,
-- format version); `id` is BuildKey::id() in hex, derived from those three columns.
CREATE TABLE builds (
    id             TEXT COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(id) = 64),
    iso_sha256     TEXT COLLATE "C" NOT NULL CHECK (length(iso_sha256) = 64),
    recipe_hash    TEXT COLLATE "C" NOT NULL CHECK (length(recipe_hash) = 64),
    format_version BIGINT           NOT NULL CHECK (format_version >= 0),
    recipe         TEXT COLLATE "C" NOT NULL CHECK (recipe <> ''),
    arch           TEXT COLLATE "C" NOT NULL CHECK (arch <> ''),
    version        TEXT COLLATE "C" NOT NULL CHECK (version <> ''),
    tag            TEXT COLLATE "C" NOT NULL CHECK (tag <> ''),
    -- Where the release was published: a directory path or a URL.
    location       TEXT COLLATE "C" NOT NULL CHECK (location <> ''),
    -- manifest.json, stored whole.
    manifest       TEXT COLLATE "C" NOT NULL,
    created_at     TEXT COLLATE "C" NOT NULL,
    UNIQUE (iso_sha256, recipe_hash, format_version),
    -- Target of current_builds' foreign key: a current pointer can only name a build of
    -- its own recipe and arch.
    UNIQUE (id, recipe, arch)
);

CREATE INDEX builds_by_recipe ON builds (recipe, arch, created_at);

-- The build menus offer for each (recipe, arch). Replaced on every publish, never merged.
-- (Named current_builds rather than current: CURRENT is an SQL keyword.)
CREATE TABLE current_builds (
    recipe     TEXT COLLATE "C" NOT NULL,
    arch       TEXT COLLATE "C" NOT NULL,
    build_id   TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (recipe, arch),
    FOREIGN KEY (build_id, recipe, arch) REFERENCES builds (id, recipe, arch)
);

-- The outcome of the latest upstream checks per recipe, for staleness reporting: a failed
-- check must never look like "nothing new".
CREATE TABLE checks (
    recipe               TEXT COLLATE "C" NOT NULL PRIMARY KEY CHECK (recipe <> ''),
    last_check_at        TEXT COLLATE "C" NOT NULL,
    last_success_at      TEXT COLLATE "C",
    last_error_at        TEXT COLLATE "C",
    last_error_kind      TEXT COLLATE "C",
    last_error_message   TEXT COLLATE "C",
    consecutive_failures BIGINT NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    CHECK ((last_error_at IS NULL) = (last_error_kind IS NULL)),
    CHECK ((last_error_at IS NULL) = (last_error_message IS NULL))
);
