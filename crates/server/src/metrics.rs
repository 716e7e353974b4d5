//! `/metrics` in the Prometheus text exposition format (version 0.0.4): the queue's jobs by
//! kind and state, build durations, bytes downloaded and published, the watch state of every
//! recipe, and the webhook deliveries this process answered.
//!
//! Everything except the webhook counters is read from the database at scrape time, so
//! every `repack serve` on one database reports the same numbers whichever process ran the
//! builds. Counters from the database only grow: builds and finished jobs are never
//! rewritten.

use crate::status::RecipeStatus;
use crate::webhooks::Forge;
use repack_catalog::RecipeTotals;
use repack_queue::{DurationHistogram, JobCount, JobKind, JobState};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Upper bounds (seconds) of the build-duration buckets: a small live ISO on a LAN mirror
/// takes a minute, a 6 GB one on a slow link an hour or more.
pub const BUILD_DURATION_BUCKETS: [u64; 9] = [30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];

/// What a webhook delivery came to, for `repack_webhook_deliveries_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DeliveryOutcome {
    /// At least one job was enqueued (or was already pending).
    Enqueued,
    /// Valid, but nothing to do (ping, an ignored event, no recipe watches the repository).
    Ignored,
    /// A delivery id seen before.
    Replayed,
    /// Refused: bad signature, malformed body, unknown event, too large, not configured.
    Refused,
}

impl DeliveryOutcome {
    fn as_str(self) -> &'static str {
        match self {
            DeliveryOutcome::Enqueued => "enqueued",
            DeliveryOutcome::Ignored => "ignored",
            DeliveryOutcome::Replayed => "replayed",
            DeliveryOutcome::Refused => "refused",
        }
    }
}

/// The counters this process keeps itself.
#[derive(Debug, Default)]
pub struct ProcessCounters {
    deliveries: Mutex<BTreeMap<(&'static str, DeliveryOutcome), u64>>,
}

impl ProcessCounters {
    pub fn delivery(&self, forge: Forge, outcome: DeliveryOutcome) {
        let mut deliveries = self
            .deliveries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *deliveries.entry((forge.as_str(), outcome)).or_default() += 1;
    }
}

/// Everything one scrape reports.
pub struct Snapshot<'a> {
    pub jobs: &'a [JobCount],
    pub build_durations: &'a DurationHistogram,
    pub totals: &'a [RecipeTotals],
    pub recipes: &'a [RecipeStatus],
    pub process: &'a ProcessCounters,
}

/// Renders `snapshot` as exposition text.
pub fn render(snapshot: &Snapshot<'_>) -> String {
    let mut out = String::with_capacity(4096);

    family(
        &mut out,
        "repack_jobs",
        "gauge",
        "Jobs in the queue by kind and state.",
    );
    for kind in JobKind::ALL {
        for state in JobState::ALL {
            let count = snapshot
                .jobs
                .iter()
                .find(|count| count.kind == *kind && count.state == *state)
                .map_or(0, |count| count.count);
            sample(
                &mut out,
                "repack_jobs",
                &[("kind", kind.as_str()), ("state", state.as_str())],
                count,
            );
        }
    }

    family(
        &mut out,
        "repack_build_duration_seconds",
        "histogram",
        "Wall time of finished build jobs (their last attempt).",
    );
    let histogram = snapshot.build_durations;
    for (bound, count) in BUILD_DURATION_BUCKETS.iter().zip(&histogram.buckets) {
        sample(
            &mut out,
            "repack_build_duration_seconds_bucket",
            &[("le", &bound.to_string())],
            count,
        );
    }
    sample(
        &mut out,
        "repack_build_duration_seconds_bucket",
        &[("le", "+Inf")],
        histogram.count,
    );
    sample(
        &mut out,
        "repack_build_duration_seconds_sum",
        &[],
        format_args!("{:.3}", histogram.sum_ms as f64 / 1000.0),
    );
    sample(
        &mut out,
        "repack_build_duration_seconds_count",
        &[],
        histogram.count,
    );

    let totals = snapshot.totals;
    family(
        &mut out,
        "repack_builds_total",
        "counter",
        "Builds published, per recipe.",
    );
    for total in totals {
        sample(
            &mut out,
            "repack_builds_total",
            &[("recipe", &total.recipe)],
            total.builds,
        );
    }
    family(
        &mut out,
        "repack_downloaded_bytes_total",
        "counter",
        "Bytes of the upstream ISOs of published builds, per recipe.",
    );
    for total in totals {
        sample(
            &mut out,
            "repack_downloaded_bytes_total",
            &[("recipe", &total.recipe)],
            total.iso_bytes,
        );
    }
    family(
        &mut out,
        "repack_published_bytes_total",
        "counter",
        "Bytes of the files of published builds, per recipe.",
    );
    for total in totals {
        sample(
            &mut out,
            "repack_published_bytes_total",
            &[("recipe", &total.recipe)],
            total.published_bytes,
        );
    }

    let recipes = snapshot.recipes;
    family(
        &mut out,
        "repack_watch_consecutive_failures",
        "gauge",
        "Failed upstream checks since the last good one, per recipe (0: the last check was good).",
    );
    for recipe in recipes {
        let failures = recipe
            .check
            .as_ref()
            .map_or(0, |check| check.consecutive_failures);
        sample(
            &mut out,
            "repack_watch_consecutive_failures",
            &[("recipe", &recipe.recipe)],
            failures,
        );
    }
    family(
        &mut out,
        "repack_last_successful_check_timestamp_seconds",
        "gauge",
        "Unix time of the last good upstream check, per recipe.",
    );
    for recipe in recipes {
        if let Some(at) = recipe
            .check
            .as_ref()
            .and_then(|check| check.last_success_at)
        {
            sample(
                &mut out,
                "repack_last_successful_check_timestamp_seconds",
                &[("recipe", &recipe.recipe)],
                at.unix_timestamp(),
            );
        }
    }
    family(
        &mut out,
        "repack_upstream_to_published_seconds",
        "gauge",
        "Seconds from the upstream release (or repack first seeing it) to its build going live.",
    );
    for recipe in recipes {
        for build in &recipe.published {
            if let Some(delay) = build.upstream_delay_seconds {
                sample(
                    &mut out,
                    "repack_upstream_to_published_seconds",
                    &[("recipe", &recipe.recipe), ("arch", &build.arch)],
                    delay,
                );
            }
        }
    }

    family(
        &mut out,
        "repack_webhook_deliveries_total",
        "counter",
        "Webhook deliveries this process answered, by forge and outcome.",
    );
    let deliveries = snapshot
        .process
        .deliveries
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    for ((forge, outcome), count) in deliveries {
        sample(
            &mut out,
            "repack_webhook_deliveries_total",
            &[("forge", forge), ("outcome", outcome.as_str())],
            count,
        );
    }
    out
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (index, (label, text)) in labels.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            let _ = write!(out, "{label}=\"{}\"", escape_label(text));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

/// Label values escape backslash, double quote and line feed (the exposition format's rule).
fn escape_label(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
