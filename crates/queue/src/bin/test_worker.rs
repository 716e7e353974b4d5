//! A worker process for repack-queue's exactly-once tests (feature `test-worker`; not shipped).
//!
//! `repack-queue-test-worker <database-url> <log-file> <worker-id> <start-dir>`: opens the
//! catalogue, announces itself by creating `<start-dir>/ready-<worker-id>`, waits for
//! `<start-dir>/go` (so every worker process starts claiming at the same moment), then works
//! until no job is queued or running. Each job appends `<recipe> <job id> <worker-id>` as one
//! line to the log (an `O_APPEND` write, so lines from several processes never interleave).

use repack_catalog::Catalog;
use repack_queue::{Job, JobContext, JobError, Queue, Worker, WorkerConfig};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Appends one line per job to the log.
struct AppendToLog {
    log: PathBuf,
    worker: String,
}

impl Job for AppendToLog {
    async fn run(&self, ctx: JobContext) -> Result<(), JobError> {
        let line = format!("{} {} {}\n", ctx.recipe(), ctx.id().0, self.worker);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|error| JobError::from_error("test-log", &error))?;
        file.write_all(line.as_bytes())
            .map_err(|error| JobError::from_error("test-log", &error))?;
        // Long enough that both processes are busy at once.
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(())
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, log, worker, start] = args.as_slice() else {
        eprintln!(
            "usage: repack-queue-test-worker <database-url> <log-file> <worker-id> <start-dir>"
        );
        return ExitCode::from(2);
    };
    let catalog = match Catalog::open(url).await {
        Ok(catalog) => catalog,
        Err(error) => {
            eprintln!("{worker}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let start = Path::new(start);
    if let Err(error) = std::fs::write(start.join(format!("ready-{worker}")), b"") {
        eprintln!(
            "{worker}: cannot announce itself in {}: {error}",
            start.display()
        );
        return ExitCode::FAILURE;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while !start.join("go").exists() {
        if Instant::now() > deadline {
            eprintln!("{worker}: no go signal within a minute");
            return ExitCode::FAILURE;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let config = WorkerConfig {
        id: worker.clone(),
        slots: 4,
        lease: Duration::from_secs(30),
        heartbeat: Duration::from_secs(1),
        poll_interval: Duration::from_millis(20),
        until_idle: true,
        ..WorkerConfig::default()
    };
    let job = AppendToLog {
        log: PathBuf::from(log),
        worker: worker.clone(),
    };
    let queue = Queue::new(catalog.database().clone());
    let report = Worker::new(queue, job, config)
        .run(CancellationToken::new())
        .await;
    println!("{worker}: {report:?}");
    catalog.close().await;
    if report.failed == 0 && report.unrecorded == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
