use crate::support::{PATIENCE, eventually, fresh};
use repack_queue::JobState;
use repack_testkit::database::TestBackend;
use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;

repack_testkit::test_on_both_backends!(two_worker_processes_run_every_job_exactly_once);

const JOBS: usize = 50;
const WORKERS: [&str; 2] = ["worker-a", "worker-b"];

/// Fifty jobs, two worker processes with four slots each, started at the same moment on the
/// same database. Every job writes one line to a shared append-only log: each job appears
/// exactly once, both processes did work, and every job ended succeeded on its first attempt.
async fn two_worker_processes_run_every_job_exactly_once(backend: TestBackend) {
    let test = fresh(backend).await;
    let mut ids = HashMap::new();
    for i in 0..JOBS {
        let recipe = format!("recipe-{i:02}");
        ids.insert(recipe.clone(), test.enqueue(&recipe).await);
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("runs.log");
    let start = dir.path().join("start");
    std::fs::create_dir(&start).unwrap();

    let workers: Vec<_> = WORKERS
        .iter()
        .map(|worker| {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_repack-queue-test-worker"))
                .args([test.db.url(), path(&log), worker, path(&start)])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .expect("start a test worker process")
        })
        .collect();
    let start_dir = start.as_path();
    eventually("both worker processes are ready", move || async move {
        WORKERS
            .iter()
            .all(|worker| start_dir.join(format!("ready-{worker}")).exists())
            .then_some(())
    })
    .await;
    std::fs::write(start.join("go"), b"").unwrap();

    for (worker, process) in WORKERS.iter().zip(workers) {
        let output = tokio::time::timeout(PATIENCE, process.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("{worker} did not finish within {PATIENCE:?}"))
            .unwrap();
        assert!(
            output.status.success(),
            "{worker} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    let text = std::fs::read_to_string(&log).unwrap();
    let mut runs: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut per_worker: HashMap<&str, usize> = HashMap::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let [recipe, id, worker] = fields.as_slice() else {
            panic!("malformed log line `{line}`")
        };
        assert_eq!(id.parse::<i64>().unwrap(), ids[*recipe].0, "{line}");
        runs.entry(recipe).or_default().push(worker);
        *per_worker.entry(worker).or_default() += 1;
    }
    assert_eq!(
        runs.len(),
        JOBS,
        "jobs that never ran: {}",
        JOBS - runs.len()
    );
    for (recipe, workers) in &runs {
        assert_eq!(
            workers.len(),
            1,
            "{recipe} ran {} times: {workers:?}",
            workers.len()
        );
    }
    assert_eq!(
        per_worker.len(),
        WORKERS.len(),
        "one process did every job: {per_worker:?}"
    );

    for job in test.queue.jobs(None).await.unwrap() {
        assert_eq!(job.state, JobState::Succeeded, "{job:?}");
        assert_eq!(job.attempts, 1, "{job:?}");
    }
}

fn path(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}
