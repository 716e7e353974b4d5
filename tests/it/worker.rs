//! `repack worker`, the scheduled service: a build job enqueued in the catalogue's database
//! (as a webhook or another worker would) is claimed and built by a running worker process,
//! and SIGTERM stops the worker cleanly.

use repack_core::Arch;
use repack_e2e::Env;
use repack_queue::{JobKind, JobState, NewJob, Queue, Reason};
use repack_testkit::fixtures::{debian_live, sha256_file};
use repack_testkit::upstream::Served;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_worker_builds_a_queued_job_and_stops_on_sigterm() {
    let fixture = debian_live();
    let env = Env::new(0).await;
    env.serve_release(
        "12.10.0",
        Served::file(&fixture.iso),
        &sha256_file(&fixture.iso),
    );

    std::fs::create_dir_all(env.data_dir()).unwrap();
    let catalog = env.catalog().await;
    let queue = Queue::new(catalog.database().clone());
    let enqueued = queue
        .enqueue(&NewJob::new(JobKind::Build, "debian-live", Reason::Webhook))
        .await
        .unwrap();
    let id = match enqueued {
        repack_queue::Enqueued::Created(id) => id,
        other => panic!("{other:?}"),
    };

    let mut worker = Command::new(repack_testkit::repack_binary())
        .args(["worker", "--slots", "1", "--grace-seconds", "10"])
        .current_dir(env.dir.path())
        .env("REPACK_CONFIG", env.dir.path().join("repack.toml"))
        .env("REPACK_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("repack worker starts");

    let started = Instant::now();
    let built = loop {
        if let Some(current) = catalog.current("debian-live", Arch::X86_64).await.unwrap() {
            break current;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "the worker built nothing in 3 minutes"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(built.version, "12.10.0");
    // The job is recorded as done (the worker writes it after the build returns).
    let started = Instant::now();
    loop {
        let job = queue.job(id).await.unwrap().expect("the job is kept");
        if job.state == JobState::Succeeded {
            assert_eq!(job.attempts, 1);
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{job:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // SIGTERM: the idle worker stops at once and says so.
    let pid = i32::try_from(worker.id()).unwrap();
    // SAFETY: sends a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let output = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(_status) = worker.try_wait().unwrap() {
                return worker.wait_with_output().unwrap();
            }
            if Instant::now() > deadline {
                let _ = worker.kill();
                panic!("the worker did not stop within 30 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("SIGTERM"), "{stderr}");
    assert!(stderr.contains("worker stopped"), "{stderr}");
    catalog.close().await;
}
