-- The job queue on PostgreSQL: the same tables, constraints and indexes as
-- migrations/sqlite/20261203000001_queue.sql (keep the two in step). Owned by repack-queue;
-- applied by the catalogue's migrator with every other file here.
--
-- Times are TEXT in the catalogue's fixed RFC 3339 form; text columns are COLLATE "C" so
-- `run_at <= $now` and ORDER BY compare bytes, as on SQLite.

-- One row per job: what to run (kind, recipe), why (reason), and where it is in its life:
-- queued -> running -> succeeded | failed, or back to queued (retry after a failure, expired
-- lease, release at shutdown).
CREATE TABLE jobs (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind               TEXT COLLATE "C" NOT NULL CHECK (kind <> ''),
    recipe             TEXT COLLATE "C" NOT NULL CHECK (recipe <> ''),
    reason             TEXT COLLATE "C" NOT NULL CHECK (reason IN ('cron', 'webhook', 'cli')),
    -- Two pending jobs never share a key (index below); `cron:<recipe>:<slot>` for cron runs.
    dedupe_key         TEXT COLLATE "C" NOT NULL CHECK (dedupe_key <> ''),
    state              TEXT COLLATE "C" NOT NULL
                       CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    -- Claims so far (a release at shutdown gives its claim back).
    attempts           BIGINT           NOT NULL CHECK (attempts >= 0),
    max_attempts       BIGINT           NOT NULL CHECK (max_attempts >= 1),
    -- Not claimed before this time (retry backoff, cron jitter).
    run_at             TEXT COLLATE "C" NOT NULL,
    -- The worker running the job and until when, renewed by its heartbeats.
    lease_owner        TEXT COLLATE "C",
    lease_expires_at   TEXT COLLATE "C",
    -- The latest failure, kept after a later success for inspection.
    last_error_kind    TEXT COLLATE "C",
    last_error_message TEXT COLLATE "C",
    created_at         TEXT COLLATE "C" NOT NULL,
    updated_at         TEXT COLLATE "C" NOT NULL,
    CHECK (attempts <= max_attempts),
    CHECK ((state = 'running') = (lease_owner IS NOT NULL)),
    CHECK ((lease_owner IS NULL) = (lease_expires_at IS NULL)),
    CHECK ((last_error_kind IS NULL) = (last_error_message IS NULL))
);

-- Deduplication: at most one pending (queued or running) job per key. Moves between queued
-- and running never conflict; a finished job frees its key.
CREATE UNIQUE INDEX jobs_pending_dedupe ON jobs (dedupe_key) WHERE state IN ('queued', 'running');
-- The claim: the earliest due queued job.
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE state = 'queued';
-- Re-queuing jobs whose lease expired.
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE state = 'running';

-- Per recipe, the latest cron slot a scheduler enqueued: advanced in the same transaction as
-- the enqueue, so racing schedulers enqueue each slot once even after its job has finished.
CREATE TABLE cron_cursors (
    recipe     TEXT COLLATE "C" NOT NULL PRIMARY KEY CHECK (recipe <> ''),
    last_slot  TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL
);
