//! The registration list: every kind of job repack runs ([`JobKind`]), with each kind's policy,
//! and why a job was enqueued ([`Reason`]).
//!
//! A new kind of job is one variant here (with its name and policy). The worker hands every
//! claimed job to one [`Job`](crate::Job) implementation, which matches on the kind; the match
//! is exhaustive, so the compiler points at the one place the new kind must be handled. A
//! worker claims only the kinds it was built with, so an older worker sharing the database
//! with a newer one leaves the newer kinds alone.

use std::fmt;

/// A kind of job. The string form ([`JobKind::as_str`]) is what the `jobs.kind` column holds:
/// never change one, add a new kind instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobKind {
    /// Check a recipe's upstream feed and build, publish and record what is new: the whole
    /// pipeline for one recipe.
    Build,
}

impl JobKind {
    /// Every kind, in registration order.
    pub const ALL: &'static [JobKind] = &[JobKind::Build];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Build => "build",
        }
    }

    /// The kind stored as `name`, if this build knows it.
    pub fn parse(name: &str) -> Option<JobKind> {
        JobKind::ALL
            .iter()
            .copied()
            .find(|kind| kind.as_str() == name)
    }

    /// How many times a job of this kind is claimed before it ends `failed`. A build reads
    /// feeds and mirrors that fail transiently; five attempts with the default backoff span
    /// about a quarter of an hour.
    pub fn max_attempts(self) -> u32 {
        match self {
            JobKind::Build => 5,
        }
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What enqueued a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// A cron slot of the recipe's schedule ([`Scheduler`](crate::Scheduler)).
    Cron,
    /// A webhook (e.g. a GitHub release event) received by `repack serve`.
    Webhook,
    /// A person: `repack run`.
    Cli,
}

impl Reason {
    /// The stored name (`jobs.reason`).
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Cron => "cron",
            Reason::Webhook => "webhook",
            Reason::Cli => "cli",
        }
    }

    pub fn parse(name: &str) -> Option<Reason> {
        [Reason::Cron, Reason::Webhook, Reason::Cli]
            .into_iter()
            .find(|reason| reason.as_str() == name)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::{JobKind, Reason};

    #[test]
    fn stored_names_round_trip() {
        for kind in JobKind::ALL {
            assert_eq!(JobKind::parse(kind.as_str()), Some(*kind));
            assert!(kind.max_attempts() >= 1);
        }
        assert_eq!(JobKind::parse("Build"), None);
        for reason in [Reason::Cron, Reason::Webhook, Reason::Cli] {
            assert_eq!(Reason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(Reason::parse("timer"), None);
    }
}
