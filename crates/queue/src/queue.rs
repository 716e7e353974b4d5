//! [`Queue`]: the job table's statements. Every write is one transaction (or one statement),
//! written once in portable SQL for both backends; the claim differs only by the lock clause
//! [`Backend::skip_locked`](repack_catalog::Backend::skip_locked) supplies.
//!
//! The life of a job, and the statement behind each step:
//! - [`Queue::enqueue`]: `INSERT … ON CONFLICT DO NOTHING`; the unique partial index on
//!   pending dedupe keys makes a second enqueue a no-op while the first is queued or running.
//! - [`Queue::claim`]: one `UPDATE … WHERE id = (SELECT … LIMIT 1 [FOR UPDATE SKIP LOCKED])
//!   RETURNING …` inside a write transaction: the earliest due queued job becomes running,
//!   counts an attempt and gets a lease.
//! - [`Queue::heartbeat`] pushes the lease's expiry; [`Queue::complete`], [`Queue::fail`]
//!   (retry after [`Backoff`], or `failed` once the attempts are spent) and [`Queue::release`]
//!   (back to queued, attempt given back) end it. Each is fenced on the lease owner and the
//!   attempt number, so a worker that lost its lease cannot overwrite what happened since.
//! - [`Queue::requeue_expired`]: running jobs whose lease expired go back to queued (their
//!   attempt counts) or end `failed`, with [`LEASE_EXPIRED`] as the error.
//!
//! Times come from this process's clock (RFC 3339 text, see [`repack_catalog::timestamp`]):
//! workers sharing a database need clocks in step to well within a lease.

use crate::backoff::Backoff;
use crate::error::QueueError;
use crate::job::JobError;
use crate::kind::{JobKind, Reason};
use crate::record::{Claim, Enqueued, JobFailure, JobId, JobRecord, JobState, Lease, NewJob};
use repack_catalog::{Database, timestamp};
use sqlx::{AnyConnection, AssertSqlSafe};
use std::sync::Arc;
use time::OffsetDateTime;

/// The error kind recorded when a job's lease expired before it finished (its worker died,
/// hung, or lost the database).
pub const LEASE_EXPIRED: &str = "queue-lease-expired";

/// Longest error message kept per job; longer ones are cut on a character boundary.
const MAX_ERROR_MESSAGE: usize = 8 * 1024;

/// Columns of `jobs`, in the order [`JobRow`] reads them.
const JOB_COLUMNS: &str = "id, kind, recipe, reason, dedupe_key, state, attempts, max_attempts, \
     run_at, lease_owner, lease_expires_at, last_error_kind, last_error_message, created_at, \
     updated_at";

/// What happened to a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// Queued again, not before `run_at`.
    Retry { run_at: OffsetDateTime },
    /// The attempts are spent: the job ended `failed`, its error kept.
    Failed,
}

/// The job queue in the catalogue's database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Queue {
    pub(crate) db: Database,
    /// The claim statement for this backend and this build's job kinds.
    claim_sql: Arc<str>,
}

impl Queue {
    /// The queue on `db` (from [`Catalog::database`](repack_catalog::Catalog::database):
    /// opening the catalogue created the queue's tables).
    pub fn new(db: Database) -> Queue {
        let kinds: Vec<String> = JobKind::ALL
            .iter()
            .map(|kind| format!("'{}'", kind.as_str()))
            .collect();
        let claim_sql = format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = $1, \
                 lease_expires_at = $2, updated_at = $3 \
             WHERE id = (SELECT id FROM jobs \
                         WHERE state = 'queued' AND run_at <= $3 AND kind IN ({kinds}) \
                         ORDER BY run_at, id LIMIT 1{lock}) \
             RETURNING {JOB_COLUMNS}",
            kinds = kinds.join(", "),
            lock = db.backend().skip_locked(),
        );
        Queue {
            db,
            claim_sql: claim_sql.into(),
        }
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Queues `job`, unless a pending job has the same dedupe key: then nothing is added and
    /// that job's id is returned.
    pub async fn enqueue(&self, job: &NewJob) -> Result<Enqueued, QueueError> {
        validate(job)?;
        let action = format!("enqueue a {} job for `{}`", job.kind, job.recipe);
        let mut tx = self
            .db
            .begin_write()
            .await
            .map_err(self.db_error(&action))?;
        let enqueued = self
            .enqueue_in(&mut tx, job, timestamp::now(), &action)
            .await?;
        tx.commit().await.map_err(self.db_error(&action))?;
        if let Enqueued::Created(id) = enqueued {
            tracing::info!(job = %id, kind = %job.kind, recipe = %job.recipe, reason = %job.reason, "job queued");
        }
        Ok(enqueued)
    }

    /// [`Queue::enqueue`] inside the caller's write transaction.
    pub(crate) async fn enqueue_in(
        &self,
        connection: &mut AnyConnection,
        job: &NewJob,
        now: OffsetDateTime,
        action: &str,
    ) -> Result<Enqueued, QueueError> {
        let now_text = timestamp::format(now);
        let run_at = timestamp::format(job.run_at.unwrap_or(now));
        // Either the insert wins or a pending job holds the key. On PostgreSQL that job can
        // finish between the two statements (each sees the latest commits): then try again.
        // Each round needs another job with this key to be created and finished meanwhile.
        loop {
            let inserted: Option<i64> = sqlx::query_scalar(
                "INSERT INTO jobs (kind, recipe, reason, dedupe_key, state, attempts, \
                                   max_attempts, run_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $7, $7) \
                 ON CONFLICT DO NOTHING \
                 RETURNING id",
            )
            .bind(job.kind.as_str())
            .bind(&job.recipe)
            .bind(job.reason.as_str())
            .bind(&job.dedupe_key)
            .bind(i64::from(job.max_attempts))
            .bind(&run_at)
            .bind(&now_text)
            .fetch_optional(&mut *connection)
            .await
            .map_err(self.db_error(action))?;
            if let Some(id) = inserted {
                return Ok(Enqueued::Created(JobId(id)));
            }
            let pending: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM jobs WHERE dedupe_key = $1 AND state IN ('queued', 'running')",
            )
            .bind(&job.dedupe_key)
            .fetch_optional(&mut *connection)
            .await
            .map_err(self.db_error(action))?;
            if let Some(id) = pending {
                tracing::debug!(job = id, key = %job.dedupe_key, "already pending; not queued again");
                return Ok(Enqueued::AlreadyPending(JobId(id)));
            }
        }
    }

    /// Claims the earliest due queued job for `owner`, with a lease of `lease` from now, or
    /// `None` when nothing is due. Two claimers never get the same job.
    pub async fn claim(
        &self,
        owner: &str,
        lease: std::time::Duration,
    ) -> Result<Option<Claim>, QueueError> {
        let action = format!("claim a job for worker `{owner}`");
        let now = timestamp::now();
        let mut tx = self
            .db
            .begin_write()
            .await
            .map_err(self.db_error(&action))?;
        let row: Option<JobRow> = sqlx::query_as(AssertSqlSafe(self.claim_sql.clone()))
            .bind(owner)
            .bind(timestamp::format(now + lease))
            .bind(timestamp::format(now))
            .fetch_optional(&mut *tx)
            .await
            .map_err(self.db_error(&action))?;
        tx.commit().await.map_err(self.db_error(&action))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let job = row.into_record(self.db.url())?;
        tracing::debug!(job = %job.id, kind = %job.kind, recipe = %job.recipe, attempt = job.attempts, owner, "job claimed");
        Ok(Some(Claim {
            job,
            owner: owner.to_owned(),
            lease,
        }))
    }

    /// Renews the lease of `claim` for another `claim.lease`; returns the new expiry.
    pub async fn heartbeat(&self, claim: &Claim) -> Result<OffsetDateTime, QueueError> {
        let expires_at = timestamp::truncate(timestamp::now() + claim.lease);
        let renewed = sqlx::query(
            "UPDATE jobs SET lease_expires_at = $1 \
             WHERE id = $2 AND state = 'running' AND lease_owner = $3 AND attempts = $4",
        )
        .bind(timestamp::format(expires_at))
        .bind(claim.job.id.0)
        .bind(&claim.owner)
        .bind(i64::from(claim.job.attempts))
        .execute(self.db.pool())
        .await
        .map_err(self.db_error(&format!("renew the lease of {}", describe(claim))))?
        .rows_affected();
        if renewed == 0 {
            return Err(lease_lost(claim));
        }
        Ok(expires_at)
    }

    /// Marks the job of `claim` succeeded.
    pub async fn complete(&self, claim: &Claim) -> Result<(), QueueError> {
        let now = timestamp::now();
        let done = sqlx::query(
            "UPDATE jobs SET state = 'succeeded', lease_owner = NULL, lease_expires_at = NULL, \
                 updated_at = $1, last_run_ms = $5 \
             WHERE id = $2 AND state = 'running' AND lease_owner = $3 AND attempts = $4",
        )
        .bind(timestamp::format(now))
        .bind(claim.job.id.0)
        .bind(&claim.owner)
        .bind(i64::from(claim.job.attempts))
        .bind(run_ms(claim, now))
        .execute(self.db.pool())
        .await
        .map_err(self.db_error(&format!("mark {} succeeded", describe(claim))))?
        .rows_affected();
        if done == 0 {
            return Err(lease_lost(claim));
        }
        Ok(())
    }

    /// Records `error` for the job of `claim`: queued again after `backoff`'s delay for this
    /// attempt, or `failed` when it was the last attempt (the error is kept either way).
    pub async fn fail(
        &self,
        claim: &Claim,
        error: &JobError,
        backoff: &Backoff,
    ) -> Result<FailOutcome, QueueError> {
        let now = timestamp::now();
        let retry_at = timestamp::truncate(now + backoff.delay(claim.job.attempts));
        let state: Option<String> = sqlx::query_scalar(
            "UPDATE jobs SET \
                 state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END, \
                 run_at = CASE WHEN attempts >= max_attempts THEN run_at ELSE $1 END, \
                 lease_owner = NULL, lease_expires_at = NULL, \
                 last_error_kind = $2, last_error_message = $3, updated_at = $4, \
                 last_run_ms = $8 \
             WHERE id = $5 AND state = 'running' AND lease_owner = $6 AND attempts = $7 \
             RETURNING state",
        )
        .bind(timestamp::format(retry_at))
        .bind(error.kind())
        .bind(cut(error.message(), MAX_ERROR_MESSAGE))
        .bind(timestamp::format(now))
        .bind(claim.job.id.0)
        .bind(&claim.owner)
        .bind(i64::from(claim.job.attempts))
        .bind(run_ms(claim, now))
        .fetch_optional(self.db.pool())
        .await
        .map_err(self.db_error(&format!(
            "record the failure of {} ({})",
            describe(claim),
            error.kind()
        )))?;
        match state.as_deref() {
            None => Err(lease_lost(claim)),
            Some(state) if state == JobState::Failed.as_str() => Ok(FailOutcome::Failed),
            Some(_) => Ok(FailOutcome::Retry { run_at: retry_at }),
        }
    }

    /// Gives the job of `claim` back: queued and due now, its attempt not counted, for another
    /// worker to take (a worker shutting down does this after its grace period).
    pub async fn release(&self, claim: &Claim) -> Result<(), QueueError> {
        let now = timestamp::format(timestamp::now());
        let released = sqlx::query(
            "UPDATE jobs SET state = 'queued', attempts = attempts - 1, run_at = $1, \
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = $1 \
             WHERE id = $2 AND state = 'running' AND lease_owner = $3 AND attempts = $4",
        )
        .bind(&now)
        .bind(claim.job.id.0)
        .bind(&claim.owner)
        .bind(i64::from(claim.job.attempts))
        .execute(self.db.pool())
        .await
        .map_err(self.db_error(&format!("release {}", describe(claim))))?
        .rows_affected();
        if released == 0 {
            return Err(lease_lost(claim));
        }
        Ok(())
    }

    /// Re-queues every running job whose lease has expired (due now; the attempt counts),
    /// or ends it `failed` when that was its last attempt, recording [`LEASE_EXPIRED`].
    /// Returns how many jobs it touched. Every worker calls this before it claims.
    pub async fn requeue_expired(&self) -> Result<u64, QueueError> {
        let now = timestamp::format(timestamp::now());
        let requeued = sqlx::query(
            "UPDATE jobs SET \
                 state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END, \
                 run_at = $1, \
                 last_error_kind = $2, \
                 last_error_message = 'the lease of worker `' || lease_owner || '` expired at ' \
                     || lease_expires_at || ' before the job finished', \
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = $1 \
             WHERE state = 'running' AND lease_expires_at <= $1",
        )
        .bind(&now)
        .bind(LEASE_EXPIRED)
        .execute(self.db.pool())
        .await
        .map_err(self.db_error("re-queue jobs whose lease expired"))?
        .rows_affected();
        if requeued > 0 {
            tracing::warn!(
                jobs = requeued,
                "re-queued jobs whose worker stopped renewing its lease"
            );
        }
        Ok(requeued)
    }

    /// The job `id`, if it exists.
    pub async fn job(&self, id: JobId) -> Result<Option<JobRecord>, QueueError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
        let row: Option<JobRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.0)
            .fetch_optional(self.db.pool())
            .await
            .map_err(self.db_error(&format!("read job {id}")))?;
        row.map(|row| row.into_record(self.db.url())).transpose()
    }

    /// Every job in `state` (all jobs with `None`), oldest first.
    pub async fn jobs(&self, state: Option<JobState>) -> Result<Vec<JobRecord>, QueueError> {
        let sql =
            format!("SELECT {JOB_COLUMNS} FROM jobs WHERE ($1 = '' OR state = $1) ORDER BY id");
        let rows: Vec<JobRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(state.map_or("", JobState::as_str))
            .fetch_all(self.db.pool())
            .await
            .map_err(self.db_error("list jobs"))?;
        rows.into_iter()
            .map(|row| row.into_record(self.db.url()))
            .collect()
    }

    /// How many jobs are queued or running (due or not).
    pub async fn pending(&self) -> Result<u64, QueueError> {
        let count: i64 =
            sqlx::query_scalar("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')")
                .fetch_one(self.db.pool())
                .await
                .map_err(self.db_error("count pending jobs"))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Wraps a database error with the URL and what was being done.
    pub(crate) fn db_error(&self, action: &str) -> impl FnOnce(sqlx::Error) -> QueueError {
        let url = self.db.url().to_owned();
        let action = action.to_owned();
        move |source| QueueError::Database {
            url,
            action,
            source,
        }
    }
}

/// Checks a job before anything is written.
pub(crate) fn validate(job: &NewJob) -> Result<(), QueueError> {
    let fail = |reason: &str| QueueError::InvalidJob {
        kind: job.kind,
        recipe: job.recipe.clone(),
        reason: reason.to_owned(),
    };
    if job.recipe.trim().is_empty() {
        return Err(fail("the recipe is empty"));
    }
    if job.dedupe_key.trim().is_empty() {
        return Err(fail("the dedupe key is empty"));
    }
    if job.max_attempts == 0 {
        return Err(fail("max_attempts is 0: the job could never run"));
    }
    Ok(())
}

/// Milliseconds since `claim` was taken (a claim sets `updated_at`), for `last_run_ms`.
fn run_ms(claim: &Claim, now: OffsetDateTime) -> i64 {
    i64::try_from((now - claim.job.updated_at).whole_milliseconds().max(0)).unwrap_or(i64::MAX)
}

fn describe(claim: &Claim) -> String {
    format!(
        "{} job {} for `{}`",
        claim.job.kind, claim.job.id, claim.job.recipe
    )
}

fn lease_lost(claim: &Claim) -> QueueError {
    QueueError::LeaseLost {
        id: claim.job.id,
        kind: claim.job.kind,
        recipe: claim.job.recipe.clone(),
        owner: claim.owner.clone(),
    }
}

/// `text` cut to at most `max` bytes, on a character boundary.
fn cut(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A `jobs` row as stored; [`JobRow::into_record`] checks it.
#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    kind: String,
    recipe: String,
    reason: String,
    dedupe_key: String,
    state: String,
    attempts: i64,
    max_attempts: i64,
    run_at: String,
    lease_owner: Option<String>,
    lease_expires_at: Option<String>,
    last_error_kind: Option<String>,
    last_error_message: Option<String>,
    created_at: String,
    updated_at: String,
}

impl JobRow {
    fn into_record(self, url: &str) -> Result<JobRecord, QueueError> {
        let corrupt = |reason: String| QueueError::CorruptRow {
            url: url.to_owned(),
            id: self.id,
            reason,
        };
        let time = |column: &str, text: &str| {
            timestamp::parse(text).map_err(|error| corrupt(format!("{column} `{text}`: {error}")))
        };
        let count = |column: &str, value: i64| {
            u32::try_from(value).map_err(|_| corrupt(format!("{column} {value} is out of range")))
        };
        let kind = JobKind::parse(&self.kind)
            .ok_or_else(|| corrupt(format!("unknown kind `{}`", self.kind)))?;
        let reason = Reason::parse(&self.reason)
            .ok_or_else(|| corrupt(format!("unknown reason `{}`", self.reason)))?;
        let state = JobState::parse(&self.state)
            .ok_or_else(|| corrupt(format!("unknown state `{}`", self.state)))?;
        let lease = match (&self.lease_owner, &self.lease_expires_at) {
            (Some(owner), Some(expires_at)) => Some(Lease {
                owner: owner.clone(),
                expires_at: time("lease_expires_at", expires_at)?,
            }),
            (None, None) => None,
            _ => return Err(corrupt("a partial lease".into())),
        };
        let last_error = match (&self.last_error_kind, &self.last_error_message) {
            (Some(kind), Some(message)) => Some(JobFailure {
                kind: kind.clone(),
                message: message.clone(),
            }),
            (None, None) => None,
            _ => return Err(corrupt("a partial last error".into())),
        };
        Ok(JobRecord {
            id: JobId(self.id),
            kind,
            recipe: self.recipe.clone(),
            reason,
            dedupe_key: self.dedupe_key.clone(),
            state,
            attempts: count("attempts", self.attempts)?,
            max_attempts: count("max_attempts", self.max_attempts)?,
            run_at: time("run_at", &self.run_at)?,
            lease,
            last_error,
            created_at: time("created_at", &self.created_at)?,
            updated_at: time("updated_at", &self.updated_at)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::cut;

    #[test]
    fn cut_keeps_whole_characters() {
        assert_eq!(cut("abc", 8), "abc");
        assert_eq!(cut("ééé", 3), "é");
        assert_eq!(cut("ééé", 4), "éé");
    }
}
