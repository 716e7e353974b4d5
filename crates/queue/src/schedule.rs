//! The cron scheduler: each recipe's [`Schedule`] (a standard five-field cron line in an IANA
//! zone, with jitter) becomes one build job per slot, enqueued by [`Scheduler::tick`].
//!
//! Several workers may run a scheduler on the same database; each slot is still enqueued once.
//! Per recipe, `cron_cursors` holds the latest slot enqueued, advanced by a conditional
//! `UPDATE … WHERE last_slot < $slot` in the same transaction as the enqueue: of two racing
//! schedulers one advances the cursor and enqueues, the other changes nothing, and a slot
//! whose job has already finished is not enqueued again. The job's dedupe key
//! `cron:<recipe>:<slot>` names the slot as well.
//!
//! A schedule starts when a scheduler first sees it (earlier slots are not run). Slots missed
//! while no scheduler ran coalesce into one run, for the latest slot: a build checks the
//! feed's current state, so a day of missed hourly slots is one build, not twenty-four.

use crate::error::QueueError;
use crate::kind::{JobKind, Reason};
use crate::queue::Queue;
use crate::record::{Enqueued, NewJob};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use repack_catalog::timestamp;
use std::time::Duration;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

/// The longest a scheduler sleeps before looking again (it also wakes for the next slot).
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// When a recipe is built on its own.
#[derive(Debug, Clone)]
pub struct Schedule {
    recipe: String,
    line: String,
    cron: Cron,
    zone: Tz,
    jitter: Duration,
}

impl Schedule {
    /// `line` is a standard cron line (minute hour day-of-month month day-of-week; `L`, `W`,
    /// `#` allowed), read in `zone` (an IANA name such as `Europe/Berlin`; UTC when `None`).
    /// Each run is delayed by a random part of `jitter`, so recipes sharing a line do not
    /// all hit their mirrors in the same second.
    pub fn new(
        recipe: impl Into<String>,
        line: &str,
        zone: Option<&str>,
        jitter: Duration,
    ) -> Result<Schedule, QueueError> {
        let recipe = recipe.into();
        let invalid = |reason: String| QueueError::InvalidSchedule {
            recipe: recipe.clone(),
            line: line.to_owned(),
            reason,
        };
        if recipe.trim().is_empty() {
            return Err(invalid("the recipe is empty".into()));
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build()
            .parse(line)
            .map_err(|error| invalid(format!("not a five-field cron line: {error}")))?;
        let zone = match zone {
            None => Tz::UTC,
            Some(name) => name
                .parse::<Tz>()
                .map_err(|error| invalid(format!("unknown time zone `{name}`: {error}")))?,
        };
        Ok(Schedule {
            recipe,
            line: line.to_owned(),
            cron,
            zone,
            jitter,
        })
    }

    pub fn recipe(&self) -> &str {
        &self.recipe
    }

    pub fn line(&self) -> &str {
        &self.line
    }

    /// The IANA name of the zone the line is read in.
    pub fn zone(&self) -> &str {
        self.zone.name()
    }

    /// The latest slot at or before `at`.
    pub fn latest_slot(&self, at: OffsetDateTime) -> Option<OffsetDateTime> {
        let zoned = to_zoned(at, self.zone)?;
        from_zoned(&self.cron.find_previous_occurrence(&zoned, true).ok()?)
    }

    /// The first slot after `at`.
    pub fn next_slot(&self, at: OffsetDateTime) -> Option<OffsetDateTime> {
        let zoned = to_zoned(at, self.zone)?;
        from_zoned(&self.cron.find_next_occurrence(&zoned, false).ok()?)
    }

    /// The dedupe key of the job for `slot`: `cron:<recipe>:<slot in UTC>`.
    pub fn dedupe_key(&self, slot: OffsetDateTime) -> String {
        format!("cron:{}:{}", self.recipe, timestamp::format(slot))
    }

    fn random_delay(&self) -> Duration {
        let nanos = u64::try_from(self.jitter.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(if nanos == 0 {
            0
        } else {
            fastrand::u64(..nanos)
        })
    }
}

/// Enqueues the cron runs of a set of schedules.
#[derive(Debug, Clone)]
pub struct Scheduler {
    queue: Queue,
    schedules: Vec<Schedule>,
}

impl Scheduler {
    pub fn new(queue: Queue, schedules: Vec<Schedule>) -> Scheduler {
        Scheduler { queue, schedules }
    }

    /// Enqueues, for every schedule with a slot due at `now` that no scheduler enqueued yet,
    /// one build job (`run_at` = slot + jitter). Returns what this call enqueued.
    pub async fn tick(&self, now: OffsetDateTime) -> Result<Vec<Enqueued>, QueueError> {
        let mut enqueued = Vec::new();
        for schedule in &self.schedules {
            if let Some(job) = self.tick_one(schedule, now).await? {
                enqueued.push(job);
            }
        }
        Ok(enqueued)
    }

    async fn tick_one(
        &self,
        schedule: &Schedule,
        now: OffsetDateTime,
    ) -> Result<Option<Enqueued>, QueueError> {
        let recipe = schedule.recipe();
        let action = format!("enqueue the cron run of `{recipe}`");
        let database = |source| QueueError::Database {
            url: self.queue.database().url().to_owned(),
            action: action.clone(),
            source,
        };
        let now_text = timestamp::format(now);
        let mut tx = self
            .queue
            .database()
            .begin_write()
            .await
            .map_err(database)?;
        let first_seen = sqlx::query(
            "INSERT INTO cron_cursors (recipe, last_slot, updated_at) VALUES ($1, $2, $2) \
             ON CONFLICT (recipe) DO NOTHING",
        )
        .bind(recipe)
        .bind(&now_text)
        .execute(&mut *tx)
        .await
        .map_err(database)?
        .rows_affected()
            == 1;
        let slot = schedule.latest_slot(now);
        let advanced = match (first_seen, slot) {
            (false, Some(slot)) => {
                sqlx::query(
                    "UPDATE cron_cursors SET last_slot = $1, updated_at = $2 \
                     WHERE recipe = $3 AND last_slot < $1",
                )
                .bind(timestamp::format(slot))
                .bind(&now_text)
                .bind(recipe)
                .execute(&mut *tx)
                .await
                .map_err(database)?
                .rows_affected()
                    == 1
            }
            _ => false,
        };
        let enqueued = match slot {
            Some(slot) if advanced => {
                let job = NewJob::new(JobKind::Build, recipe, Reason::Cron)
                    .with_dedupe_key(schedule.dedupe_key(slot))
                    .with_run_at(slot + schedule.random_delay());
                Some(self.queue.enqueue_in(&mut tx, &job, now, &action).await?)
            }
            _ => None,
        };
        tx.commit().await.map_err(database)?;
        if first_seen {
            tracing::info!(
                recipe,
                line = schedule.line(),
                zone = schedule.zone(),
                "schedule starts"
            );
        }
        if let Some(job) = enqueued {
            tracing::info!(recipe, job = %job.id(), slot = ?slot, "cron run enqueued");
        }
        Ok(enqueued)
    }

    /// Ticks at every slot until `shutdown` is cancelled. Database errors are logged and
    /// retried at the next wake-up.
    pub async fn run(&self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            let now = timestamp::now();
            if let Err(error) = self.tick(now).await {
                tracing::warn!(error = %error, kind = error.kind(), "scheduler tick failed");
            }
            let next = self
                .schedules
                .iter()
                .filter_map(|schedule| schedule.next_slot(now))
                .min();
            let sleep = next
                .map(|next| {
                    let until = next - timestamp::now();
                    Duration::try_from(until).unwrap_or(Duration::ZERO)
                })
                .unwrap_or(MAX_SLEEP)
                .min(MAX_SLEEP);
            tokio::select! {
                () = shutdown.cancelled() => {}
                // A little past the slot, so the next tick sees it as due.
                () = tokio::time::sleep(sleep + Duration::from_millis(10)) => {}
            }
        }
    }
}

fn to_zoned(at: OffsetDateTime, zone: Tz) -> Option<DateTime<Tz>> {
    DateTime::<Utc>::from_timestamp(at.unix_timestamp(), at.nanosecond())
        .map(|utc| utc.with_timezone(&zone))
}

fn from_zoned(at: &DateTime<Tz>) -> Option<OffsetDateTime> {
    let nanos = at.timestamp_nanos_opt()?;
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos)).ok()
}

#[cfg(test)]
mod tests {
    use super::Schedule;
    use std::time::Duration;
    use time::macros::datetime;

    #[test]
    fn slots_are_read_in_the_schedules_zone() {
        // 04:00 in Berlin is 03:00 UTC in winter and 02:00 UTC in summer.
        let berlin = Schedule::new(
            "debian-live",
            "0 4 * * *",
            Some("Europe/Berlin"),
            Duration::ZERO,
        )
        .unwrap();
        assert_eq!(
            berlin.latest_slot(datetime!(2026-12-01 10:00 UTC)),
            Some(datetime!(2026-12-01 03:00 UTC))
        );
        assert_eq!(
            berlin.next_slot(datetime!(2026-07-01 10:00 UTC)),
            Some(datetime!(2026-07-02 02:00 UTC))
        );
        let utc = Schedule::new("debian-live", "30 */6 * * *", None, Duration::ZERO).unwrap();
        assert_eq!(utc.zone(), "UTC");
        assert_eq!(
            utc.latest_slot(datetime!(2026-12-01 06:30 UTC)),
            Some(datetime!(2026-12-01 06:30 UTC)),
            "a slot at `now` is due"
        );
        assert_eq!(
            utc.dedupe_key(datetime!(2026-12-01 06:30 UTC)),
            "cron:debian-live:2026-12-01T06:30:00.000000Z"
        );
    }

    #[test]
    fn bad_lines_and_zones_are_refused_with_the_recipe() {
        for (line, zone) in [
            ("0 4 * *", None),
            ("0 0 4 * * *", None),
            ("61 4 * * *", None),
            ("0 4 * * *", Some("Mars/Olympus")),
        ] {
            let error = Schedule::new("debian-live", line, zone, Duration::ZERO).unwrap_err();
            assert_eq!(error.kind(), "queue-invalid-schedule");
            assert!(error.to_string().contains("`debian-live`"), "{error}");
        }
    }

    #[test]
    fn jitter_stays_within_its_bound() {
        let schedule =
            Schedule::new("debian-live", "0 4 * * *", None, Duration::from_secs(5)).unwrap();
        for _ in 0..100 {
            assert!(schedule.random_delay() < Duration::from_secs(5));
        }
        let none = Schedule::new("debian-live", "0 4 * * *", None, Duration::ZERO).unwrap();
        assert_eq!(none.random_delay(), Duration::ZERO);
    }
}
