//! Integration tests of repack-queue. Each behavioural test runs twice, on a fresh SQLite
//! file and on a fresh PostgreSQL database (`<test>::sqlite`, `<test>::postgres`; see
//! `repack_testkit::test_on_both_backends!`), through the catalogue's migrations.
//!
//! Modules:
//! - `claim`: claims are exclusive under eight concurrent claimers; due order;
//! - `dedupe`: one pending job per dedupe key, racing triggers, malformed jobs;
//! - `lease`: expired leases are re-queued (or end the job) and taken by another worker;
//!   heartbeats keep a long job's lease;
//! - `retry`: backoff with growing delays, failing for good with the error kept, retries by
//!   the worker, panics;
//! - `worker`: graceful shutdown releases what is still running;
//! - `prune`: finished jobs and webhook deliveries past the retention are deleted, pending
//!   jobs never; a worker prunes on its own;
//! - `schedule`: cron slots enqueued once with racing schedulers, missed slots coalesced;
//! - `exactly_once`: two worker processes (`repack-queue-test-worker`) × 50 jobs.

mod claim;
mod dedupe;
mod exactly_once;
mod lease;
mod prune;
mod retry;
mod schedule;
mod support;
mod worker;
