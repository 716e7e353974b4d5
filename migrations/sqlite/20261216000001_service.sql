-- The service (issue 16: repack serve, webhooks, metrics). Mirrored in
-- migrations/postgres/20261216000001_service.sql: keep the two in step.

-- How long the last attempt of a job ran, in milliseconds, set when the attempt ends
-- (succeeded or failed): the build-duration histogram of /metrics.
ALTER TABLE jobs ADD COLUMN last_run_ms INTEGER CHECK (last_run_ms IS NULL OR last_run_ms >= 0);

-- Webhook deliveries already handled, by forge and the forge's delivery id, recorded in the
-- transaction that enqueues their jobs: a redelivered id enqueues nothing again.
CREATE TABLE webhook_deliveries (
    forge       TEXT NOT NULL CHECK (forge <> ''),
    delivery_id TEXT NOT NULL CHECK (delivery_id <> ''),
    received_at TEXT NOT NULL,
    PRIMARY KEY (forge, delivery_id)
);

-- The bytes of each build, for the metrics: the upstream ISO's size (what was downloaded)
-- and every published file's size, summed. Filled from the manifest for existing builds.
ALTER TABLE builds ADD COLUMN iso_bytes INTEGER NOT NULL DEFAULT 0 CHECK (iso_bytes >= 0);
ALTER TABLE builds ADD COLUMN published_bytes INTEGER NOT NULL DEFAULT 0
    CHECK (published_bytes >= 0);
UPDATE builds SET
    iso_bytes = json_extract(manifest, '$.source.size'),
    published_bytes = (SELECT COALESCE(SUM(json_extract(file.value, '$.size')), 0)
                       FROM json_each(manifest, '$.files') AS file);
