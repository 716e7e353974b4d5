//! Running one variant as a child process tree and measuring it.
//!
//! - **Wall time**: from spawn to exit (`wall`), and to the outputs being on disk
//!   (`durable`: exit plus a `syncfs` of the filesystem holding the outputs, so a variant
//!   that leaves gigabytes of dirty pages behind is not timed as if it had written them).
//! - **Peak RSS**: `ru_maxrss` from `wait4`, i.e. the largest resident set of any process
//!   in the tree (the kernel folds reaped grandchildren into their parent's usage).
//! - **Bytes written**: the growth of this process's `write_bytes` in `/proc/self/io`
//!   across the run. The kernel adds a reaped child's I/O accounting (its own and that of
//!   the children it reaped) to the parent, so this is every byte the tree sent to the
//!   storage layer; the benchmark process itself only reads while a variant runs.

use anyhow::{Context, Result, bail};
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// What one run of one variant cost.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub wall: Duration,
    pub durable: Duration,
    pub max_rss_bytes: u64,
    /// User + system CPU time of the whole tree.
    pub cpu: Duration,
    /// The system (kernel) share of `cpu`.
    pub sys: Duration,
    pub write_bytes: u64,
    /// 1-minute load average just before the run.
    pub load_before: f64,
}

impl Sample {
    /// The user (not kernel) share of `cpu`.
    pub fn user(&self) -> Duration {
        self.cpu.saturating_sub(self.sys)
    }
}

/// A fixed CPU burner: one thread spinning beside a run, as another build or a guest would.
pub struct Burner {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Burner {
    pub fn start() -> Burner {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut x: u64 = 1;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                for _ in 0..100_000 {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            }
        });
        Burner {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Burner {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// CPU time of one SHA-256 pass over `bytes` with the `sha2` code repack uses, on one thread
/// over a buffer already in memory: the hashing cost alone, no I/O.
pub fn sha256_pass(bytes: u64) -> Duration {
    use sha2::Digest as _;
    let buffer = vec![0x5a_u8; 1 << 20];
    let before = thread_cpu();
    let mut hasher = sha2::Sha256::new();
    let mut left = bytes;
    while left > 0 {
        let take = left.min(buffer.len() as u64) as usize;
        hasher.update(&buffer[..take]);
        left -= take as u64;
    }
    std::hint::black_box(hasher.finalize());
    thread_cpu() - before
}

fn thread_cpu() -> Duration {
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pointer is valid for the call.
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) };
    timeval(usage.ru_utime) + timeval(usage.ru_stime)
}

/// Drops the page cache (needs root). Returns whether it worked.
pub fn drop_caches() -> bool {
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
    std::fs::write("/proc/sys/vm/drop_caches", "3\n").is_ok()
}

pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

fn self_write_bytes() -> Result<u64> {
    let text = std::fs::read_to_string("/proc/self/io").context("reading /proc/self/io")?;
    for line in text.lines() {
        if let Some(value) = line.strip_prefix("write_bytes:") {
            return Ok(value.trim().parse()?);
        }
    }
    bail!("/proc/self/io has no write_bytes")
}

/// Runs `command` to completion and measures it; `output_dir` is synced before `durable`.
pub fn run(command: &mut Command, output_dir: &Path) -> Result<Sample> {
    let load_before = load_average();
    let written_before = self_write_bytes()?;
    let start = Instant::now();
    let child = command
        .spawn()
        .with_context(|| format!("cannot start {command:?}"))?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our child, not yet reaped (std only reaps on `wait`, which we never
    // call); both pointers are valid for the duration of the call.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    if reaped != pid {
        bail!("wait4: {}", std::io::Error::last_os_error());
    }
    let dir = std::fs::File::open(output_dir)
        .with_context(|| format!("cannot open {}", output_dir.display()))?;
    // SAFETY: the descriptor is open for the duration of the call.
    unsafe { libc::syncfs(dir.as_raw_fd()) };
    let durable = start.elapsed();
    let write_bytes = self_write_bytes()? - written_before;
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        bail!("{command:?} failed (wait status {status:#x})");
    }
    Ok(Sample {
        wall,
        durable,
        max_rss_bytes: usage.ru_maxrss as u64 * 1024,
        cpu: timeval(usage.ru_utime) + timeval(usage.ru_stime),
        sys: timeval(usage.ru_stime),
        write_bytes,
        load_before,
    })
}

fn timeval(value: libc::timeval) -> Duration {
    Duration::from_secs(value.tv_sec as u64) + Duration::from_micros(value.tv_usec as u64)
}
