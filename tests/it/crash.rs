//! Crash safety of `repack worker` (issue 16). A real build of the Debian live fixture, served
//! by the upstream stand-in at a throttled rate, is run by `repack worker` processes that the
//! harness kills with SIGKILL at ≥ 10 points chosen at random: during the download (once the
//! server has sent the ISO up to a given byte), after "ISO verified", during assembly, as
//! publishing starts and right before the catalogue commit, each plus a random delay (a
//! directory publish takes milliseconds: that kill mostly lands between the publish and the
//! commit, and the last one sometimes after the commit, before the menu; the report printed
//! at the end says where each kill landed). After each kill a new worker starts and takes
//! the job over once the dead worker's lease expires.
//!
//! The plan comes from a seeded RNG; the seed is printed, and `REPACK_CRASH_SEED=<seed>`
//! replays the same plan (the same kill points and delays; the machine decides the rest).
//!
//! What it proves, on SQLite and on PostgreSQL:
//! - after every kill, no partial release is visible or current: every release directory and
//!   the catalogue's current build (if any) hold every file of their manifest at its size;
//! - in the end the build is published once: one release directory, one build in the
//!   catalogue, current, whose manifest is the published one and whose files hash to it;
//!   nothing is left in the staging area and no temporary file anywhere in the output tree;
//! - no attempt failed: each one ended only by its kill or a lease expiry (the job's attempts
//!   count every kill that interrupted it plus the one that finished; its last error is the
//!   lease expiry, and no attempt logged a failure of its own);
//! - the download resumed rather than restarted: every transfer after a kill asks for a
//!   Range starting past byte 0 and not past where the killed transfer was, and the ISO
//!   bytes served stay under (kills during the download + 1) × the ISO's size.

use repack_catalog::Catalog;
use repack_core::{Arch, Manifest};
use repack_e2e::Env;
use repack_queue::{JobId, JobKind, JobState, LEASE_EXPIRED, NewJob, Queue, Reason};
use repack_testkit::database::{TestBackend, TestDatabase};
use repack_testkit::fixtures::{debian_live, sha256_file};
use repack_testkit::upstream::{LoggedRequest, Served};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

repack_testkit::test_on_both_backends!(a_worker_killed_at_random_points_publishes_the_build_once);

const RECIPE: &str = "debian-live";
const VERSION: &str = "12.10.0";
/// `repack worker --lease-seconds`: a killed worker's job is taken over this long after its
/// last heartbeat (plus up to one poll of the new worker).
const LEASE_SECONDS: u64 = 3;
/// The upstream's pace: the fixture ISO (about 193 MiB) takes about 4 s to download whole.
const RATE: u64 = 48 << 20;
/// Kills planned before the release is published (in the download, after the ISO is
/// verified, during assembly); one during publish and one right before the catalogue commit
/// follow, and may come too late once the machine is fast.
const KILLS_BEFORE_PUBLISH: usize = 10;
/// The longest the harness waits for any one thing.
const PATIENCE: Duration = Duration::from_secs(120);

/// Where a worker is killed.
#[derive(Debug, Clone, Copy)]
enum Point {
    /// Once the server has sent the ISO up to this byte in the worker's transfer.
    Download(u64),
    /// Once the worker has logged this event.
    After(&'static str),
}

#[derive(Debug, Clone, Copy)]
struct Kill {
    point: Point,
    /// Waited after the point is reached, before the SIGKILL.
    delay: Duration,
}

/// What happened at one kill, for the report and the resume checks.
#[derive(Debug)]
struct Killed {
    kill: Kill,
    /// The last pipeline event the worker logged before it died.
    last_event: Option<String>,
    /// The job was still running (so the kill cost an attempt).
    interrupted: bool,
    /// The catalogue already had the build current: the kill came after the commit.
    committed: bool,
    /// For a kill in the download: the index of the killed transfer among the ISO requests
    /// and how far the server had sent it (absolute offset).
    transfer: Option<(usize, u64)>,
}

/// Events of the build the harness follows, in pipeline order.
const EVENTS: &[&str] = &[
    "downloading ISO",
    "ISO verified",
    "assembling release",
    "publishing release",
    "release published",
    "job succeeded",
];

fn plan(rng: &mut fastrand::Rng, iso_size: u64, checkpoint: u64) -> Vec<Kill> {
    let millis = |rng: &mut fastrand::Rng, max: u64| Duration::from_millis(rng.u64(0..=max));
    // Past the first checkpoint (with room for what sits in buffers), so there is something
    // to resume from, and short of the end, so the kill lands inside the transfer.
    let (low, high) = (checkpoint + (32 << 20), iso_size - (16 << 20));
    assert!(
        low < high,
        "the fixture ISO is too small for download kills"
    );
    let downloads = rng.usize(2..=4);
    let span = (high - low) / downloads as u64;
    let mut kills = Vec::new();
    for i in 0..downloads as u64 {
        let at = low + i * span + rng.u64(0..span * 6 / 10);
        let delay = millis(rng, 100);
        kills.push(Kill {
            point: Point::Download(at),
            delay,
        });
    }
    while kills.len() < KILLS_BEFORE_PUBLISH {
        let event = if rng.bool() {
            "ISO verified"
        } else {
            "assembling release"
        };
        let delay = millis(rng, 200);
        kills.push(Kill {
            point: Point::After(event),
            delay,
        });
    }
    let delay = millis(rng, 5);
    kills.push(Kill {
        point: Point::After("publishing release"),
        delay,
    });
    let delay = millis(rng, 2);
    kills.push(Kill {
        point: Point::After("release published"),
        delay,
    });
    kills
}

/// One `repack worker` process and the events it logs (JSON lines on stderr). Killed when
/// dropped (a failing test leaves no worker behind).
struct Worker {
    /// `None` once reaped.
    child: Option<Child>,
    events: mpsc::UnboundedReceiver<String>,
    last_event: Option<String>,
    /// Every line of every worker of the test, for failure messages.
    log: Arc<Mutex<Vec<String>>>,
}

impl Worker {
    fn start(env: &Env, database_url: &str, log: &Arc<Mutex<Vec<String>>>) -> Worker {
        let mut child = Command::new(repack_testkit::repack_binary())
            .args(["worker", "--slots", "1", "--grace-seconds", "5"])
            .args(["--lease-seconds", &LEASE_SECONDS.to_string()])
            .current_dir(env.dir.path())
            .env("REPACK_CONFIG", env.dir.path().join("repack.toml"))
            .env("REPACK_DATABASE_URL", database_url)
            .env("REPACK_LOG_FORMAT", "json")
            .env_remove("REPACK_LOG")
            .env_remove("REPACK_DATA_DIR")
            .env_remove("REPACK_OUTPUT_DIR")
            .env_remove("REPACK_MIRRORS")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("repack worker starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (sender, events) = mpsc::unbounded_channel();
        let shared_log = Arc::clone(log);
        let log = Arc::clone(log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let message = serde_json::from_str::<serde_json::Value>(&line)
                    .ok()
                    .and_then(|value| value["fields"]["message"].as_str().map(str::to_owned));
                log.lock().unwrap().push(line);
                if let Some(message) = message {
                    let _ = sender.send(message);
                }
            }
        });
        Worker {
            child: Some(child),
            events,
            last_event: None,
            log: shared_log,
        }
    }

    /// Takes what the worker logged so far; panics if it died.
    fn drain(&mut self) {
        loop {
            match self.events.try_recv() {
                Ok(message) => self.note(message),
                Err(mpsc::error::TryRecvError::Empty) => return,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    panic!("the worker died on its own")
                }
            }
        }
    }

    fn note(&mut self, message: String) {
        if EVENTS.contains(&message.as_str()) {
            self.last_event = Some(message);
        }
    }

    /// Waits until the worker logs `event`.
    async fn wait_for(&mut self, event: &str) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(message)) => {
                    let found = message == event;
                    self.note(message);
                    if found {
                        return;
                    }
                }
                Ok(None) => panic!("the worker died before `{event}`:\n{}", self.log_tail()),
                Err(_) => panic!(
                    "no `{event}` from the worker within {PATIENCE:?}:\n{}",
                    self.log_tail()
                ),
            }
        }
    }

    /// The last lines the workers logged.
    fn log_tail(&self) -> String {
        let log = self.log.lock().unwrap();
        log[log.len().saturating_sub(40)..].join("\n")
    }

    /// SIGKILL, then reaps the process.
    fn kill(mut self) -> Option<String> {
        let mut child = self.child.take().expect("not reaped yet");
        child.kill().expect("SIGKILL the worker");
        child.wait().expect("reap the worker");
        while let Ok(message) = self.events.try_recv() {
            self.note(message);
        }
        self.last_event.take()
    }

    /// SIGTERM, then waits for a clean exit.
    async fn stop(mut self) {
        let mut child = self.child.take().expect("not reaped yet");
        let pid = i32::try_from(child.id()).expect("a pid fits in i32");
        // SAFETY: sends a signal to the child this test started and has not reaped.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let status = tokio::task::spawn_blocking(move || child.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(status.success(), "the last worker exited with {status}");
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Where a transfer is: the offset it started from plus what the server has sent of it.
fn reached(request: &LoggedRequest) -> u64 {
    request.range_start().unwrap_or(0) + request.sent_bytes
}

/// Every release directory and the current build hold every file of their manifest at its
/// size: nothing partial is visible or current.
async fn assert_nothing_partial(env: &Env, catalog: &Catalog, after: &str) {
    let complete = |dir: &Path, manifest: &Manifest| {
        for name in manifest.stored_names() {
            assert!(
                dir.join(name).is_file(),
                "{after}: {name} is missing in {}",
                dir.display()
            );
        }
        for file in &manifest.files {
            for part in &file.parts {
                let size = std::fs::metadata(dir.join(&part.name)).unwrap().len();
                assert_eq!(
                    size,
                    part.size,
                    "{after}: {} in {}",
                    part.name,
                    dir.display()
                );
            }
        }
    };
    let recipe_dir = env.output_dir().join(RECIPE);
    if let Ok(entries) = std::fs::read_dir(&recipe_dir) {
        for entry in entries {
            let dir = entry.unwrap().path();
            let text = std::fs::read(dir.join("manifest.json")).unwrap_or_else(|error| {
                panic!("{after}: {} has no manifest: {error}", dir.display())
            });
            let manifest: Manifest = serde_json::from_slice(&text).unwrap();
            complete(&dir, &manifest);
        }
    }
    if let Some(current) = catalog.current(RECIPE, Arch::X86_64).await.unwrap() {
        complete(&env.output_dir().join(&current.location), &current.manifest);
    }
}

/// Every path below `dir`, relative to it.
fn tree(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            found.push(path.strip_prefix(dir).unwrap().display().to_string());
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    found.sort();
    found
}

async fn a_worker_killed_at_random_points_publishes_the_build_once(backend: TestBackend) {
    let began = Instant::now();
    let seed = match std::env::var("REPACK_CRASH_SEED") {
        Ok(text) => text.trim().parse().expect("REPACK_CRASH_SEED is a u64"),
        Err(_) => fastrand::u64(..),
    };
    println!("crash seed ({backend}): {seed} (REPACK_CRASH_SEED={seed} replays this plan)");
    let fixture = debian_live();
    let iso_size = std::fs::metadata(&fixture.iso).unwrap().len();
    let iso_sha256 = sha256_file(&fixture.iso);
    let env = Env::new(2).await;
    env.serve_release(VERSION, Served::file(&fixture.iso), &iso_sha256);
    env.upstream.set_rate(Some(RATE));
    let iso_path = Env::iso_path(VERSION);

    std::fs::create_dir_all(env.data_dir()).unwrap();
    let database = TestDatabase::fresh(backend).await;
    let catalog = Catalog::open(database.url()).await.unwrap();
    let queue = Queue::new(catalog.database().clone());
    // Every kill costs an attempt (its lease expires): allow far more than the plan's kills.
    let id: JobId = queue
        .enqueue(&NewJob::new(JobKind::Build, RECIPE, Reason::Webhook).with_max_attempts(50))
        .await
        .unwrap()
        .id();

    let checkpoint = repack_fetch::FetchConfig::new(env.data_dir()).checkpoint_bytes;
    let mut rng = fastrand::Rng::with_seed(seed);
    let kills = plan(&mut rng, iso_size, checkpoint);
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut done: Vec<Killed> = Vec::new();

    for kill in kills {
        if done.last().is_some_and(|killed| killed.committed) {
            // The last kill came after the catalogue commit: nothing is left to interrupt.
            break;
        }
        let transfers_before = env.upstream.requests_for(&iso_path).len();
        let mut worker = Worker::start(&env, database.url(), &log);
        match kill.point {
            Point::Download(at) => {
                let deadline = Instant::now() + PATIENCE;
                loop {
                    let requests = env.upstream.requests_for(&iso_path);
                    if let Some(current) = requests.get(transfers_before..).and_then(<[_]>::last)
                        && reached(current) >= at
                    {
                        break;
                    }
                    worker.drain();
                    assert!(
                        worker.last_event.as_deref() != Some("ISO verified"),
                        "the download ended before byte {at}: {requests:?}"
                    );
                    assert!(
                        Instant::now() < deadline,
                        "the download never reached byte {at}"
                    );
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            }
            Point::After(event) => worker.wait_for(event).await,
        }
        tokio::time::sleep(kill.delay).await;
        let last_event = worker.kill();
        let transfer = matches!(kill.point, Point::Download(_)).then(|| {
            let requests = env.upstream.requests_for(&iso_path);
            let index = requests.len() - 1;
            assert!(index >= transfers_before);
            (index, reached(&requests[index]))
        });
        let job = queue.job(id).await.unwrap().expect("the job is kept");
        let interrupted = job.state == JobState::Running;
        let committed = catalog
            .current(RECIPE, Arch::X86_64)
            .await
            .unwrap()
            .is_some();
        let after = format!(
            "kill {} ({kill:?}, last event {last_event:?})",
            done.len() + 1
        );
        assert_nothing_partial(&env, &catalog, &after).await;
        println!("{after}: job {}, build current: {committed}", job.state);
        done.push(Killed {
            kill,
            last_event,
            interrupted,
            committed,
            transfer,
        });
    }

    // The last worker takes the job over and finishes it.
    let worker = Worker::start(&env, database.url(), &log);
    let deadline = Instant::now() + PATIENCE;
    let job = loop {
        let job = queue.job(id).await.unwrap().expect("the job is kept");
        if job.state == JobState::Succeeded {
            break job;
        }
        assert!(
            !matches!(job.state, JobState::Failed) && Instant::now() < deadline,
            "the build did not finish after the kills: {job:?}\n{}",
            log.lock().unwrap().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    worker.stop().await;
    let log = log.lock().unwrap().join("\n");

    // At least ten kills interrupted the build, and nothing but the kills ended an attempt.
    let interrupted = done.iter().filter(|killed| killed.interrupted).count();
    assert!(
        interrupted >= 10,
        "only {interrupted} kills interrupted the build: {done:#?}"
    );
    // Every interrupted attempt and the last one counted; a heartbeat delayed past the short
    // lease on a loaded machine may add an expiry without a kill, never a failure (below).
    assert!(job.attempts as usize > interrupted, "{job:?}\n{done:#?}");
    assert_eq!(
        job.last_error.as_ref().map(|error| error.kind.as_str()),
        Some(LEASE_EXPIRED)
    );
    for failure in ["job failed; will retry", "job failed for good"] {
        assert!(!log.contains(failure), "an attempt failed:\n{log}");
    }

    // The download resumed after every kill in it.
    let download_log: Vec<&str> = log
        .lines()
        .filter(|line| {
            [
                "resum",
                "starting over",
                "downloading ISO",
                "interrupted build",
            ]
            .iter()
            .any(|needle| line.contains(needle))
        })
        .collect();
    let transfers = env.upstream.requests_for(&iso_path);
    let download_kills: Vec<(usize, u64)> =
        done.iter().filter_map(|killed| killed.transfer).collect();
    assert_eq!(
        transfers.len(),
        download_kills.len() + 1,
        "one transfer per kill in the download and the one that finished: {transfers:#?}\n{}",
        download_log.join("\n")
    );
    assert_eq!(transfers[0].range, None);
    let mut resumed_at = 0;
    for &(index, reached_at_kill) in &download_kills {
        let next = &transfers[index + 1];
        let start = next.range_start().unwrap_or(0);
        assert!(
            start > 0 && start <= reached_at_kill && start >= resumed_at,
            "after a kill at byte {reached_at_kill} the download went on from {start}: \
             {transfers:#?}\n{}",
            download_log.join("\n")
        );
        assert_eq!(next.status, 206);
        resumed_at = start;
    }
    let served: u64 = transfers.iter().map(|request| request.sent_bytes).sum();
    assert!(
        served < (download_kills.len() as u64 + 1) * iso_size,
        "{served} ISO bytes served for a {iso_size}-byte ISO and {} kills in the download",
        download_kills.len()
    );

    // One release, current, exactly as its manifest says.
    let builds = catalog.builds(RECIPE).await.unwrap();
    assert_eq!(builds.len(), 1, "{builds:#?}");
    let current = catalog
        .current(RECIPE, Arch::X86_64)
        .await
        .unwrap()
        .expect("a current build");
    assert_eq!(current.id, builds[0].id);
    assert_eq!(current.version, VERSION);
    assert_eq!(current.location, format!("{RECIPE}/{}", current.tag));
    let release = env.output_dir().join(&current.location);
    let published: Manifest =
        serde_json::from_slice(&std::fs::read(release.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(published, current.manifest);
    assert_eq!(published.source.sha256, iso_sha256.parse().unwrap());
    for file in &published.files {
        for part in &file.parts {
            assert_eq!(
                sha256_file(&release.join(&part.name)),
                part.sha256.to_string(),
                "{}",
                part.name
            );
        }
    }
    let mut expected: Vec<String> = vec![
        RECIPE.to_owned(),
        current.location.clone(),
        format!("{}/SHA256SUMS", current.location),
        format!("{}/manifest.json", current.location),
        "menu.ipxe".to_owned(),
    ];
    expected.extend(
        published
            .stored_names()
            .map(|name| format!("{}/{name}", current.location)),
    );
    // The staging area may stay, empty; nothing else may.
    let mut found = tree(&env.output_dir());
    found.retain(|path| path != ".staging");
    expected.sort();
    assert_eq!(
        found, expected,
        "the output tree holds exactly one release and the menu (no staging directory, no temporary file)"
    );
    let menu = std::fs::read_to_string(env.output_dir().join("menu.ipxe")).unwrap();
    assert!(menu.contains(&current.tag), "{menu}");

    catalog.close().await;
    // For the record (not asserted: the download cache is the fetcher's to sweep).
    println!(
        "download cache afterwards: {:?}",
        tree(&env.data_dir().join("cache"))
    );
    println!(
        "crash seed ({backend}): {seed}; {} kills ({interrupted} interrupted the build, {} in the \
         download), {served} ISO bytes served for {iso_size}, {} attempts, {:.1} s",
        done.len(),
        download_kills.len(),
        job.attempts,
        began.elapsed().as_secs_f64()
    );
    for (n, killed) in done.iter().enumerate() {
        println!(
            "  kill {}: {:?} + {:?}, last event {:?}, after the commit: {}",
            n + 1,
            killed.kill.point,
            killed.kill.delay,
            killed.last_event,
            killed.committed
        );
    }
}
