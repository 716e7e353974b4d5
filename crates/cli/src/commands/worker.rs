//! `repack worker`: the scheduled service. It enqueues a build job for each recipe's cron
//! slots (several workers on one database enqueue each slot once), works the queue with N
//! job slots, and on SIGTERM or SIGINT stops claiming, lets running builds finish within the
//! grace period and releases the leases of the rest, so another worker takes them over.
//! A worker killed outright (SIGKILL, power loss) stops renewing its leases: its builds are
//! taken over by another worker once `--lease-seconds` have passed. The worker also prunes
//! finished jobs and webhook deliveries older than `[queue] keep_days`.

use crate::config::Config;
use crate::services::{BuildJobs, Services};
use anyhow::{Context, Result};
use repack_queue::{Schedule, Scheduler, Worker, WorkerConfig};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The largest random delay added to each cron run, so recipes sharing a line do not all
/// hit their mirrors in the same second.
const CRON_JITTER: Duration = Duration::from_secs(120);

/// Runs the worker: `slots` builds at a time, `grace` to finish them after SIGTERM, leases
/// of `lease` renewed every quarter of it.
pub async fn worker(
    config: &Config,
    slots: usize,
    grace: Duration,
    lease: Duration,
) -> Result<ExitCode> {
    let services = Services::open(config).await?;
    let queue = services.queue();

    let mut schedules = Vec::new();
    for recipe in crate::services::recipes(config)? {
        match Schedule::new(&recipe.id, &recipe.schedule, None, CRON_JITTER) {
            Ok(schedule) => schedules.push(schedule),
            Err(error) => {
                tracing::error!(recipe = %recipe.id, %error, "recipe not scheduled: bad schedule")
            }
        }
    }
    tracing::info!(recipes = schedules.len(), slots, "worker starting");

    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    let scheduler = Scheduler::new(queue.clone(), schedules);
    let scheduler = {
        let shutdown = shutdown.clone();
        tokio::spawn(async move { scheduler.run(shutdown).await })
    };
    let jobs = BuildJobs::new(&services, Arc::new(crate::reporter::LogReporter::default()));
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|_| "host".to_owned());
    let defaults = WorkerConfig::default();
    let report = Worker::new(
        queue,
        jobs,
        WorkerConfig {
            id: format!("{host}-{}", defaults.id),
            slots,
            grace_period: grace,
            lease,
            heartbeat: lease / 4,
            keep_finished: config.queue.keep_finished,
            ..defaults
        },
    )
    .run(shutdown.clone())
    .await;
    shutdown.cancel();
    scheduler.await.context("the scheduler task failed")?;
    services.close().await;
    tracing::info!(
        succeeded = report.succeeded,
        failed = report.failed,
        released = report.released,
        "worker stopped"
    );
    Ok(ExitCode::SUCCESS)
}

/// Cancels `shutdown` on the first SIGTERM or SIGINT.
pub(crate) async fn stop_on_signal(shutdown: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot listen for SIGTERM/SIGINT; stop the worker with SIGKILL");
        return;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: finishing running builds, claiming no more"),
        _ = int.recv() => tracing::info!("SIGINT: finishing running builds, claiming no more"),
    }
    shutdown.cancel();
}
