//! Benchmark (not a test): how much RAM a network boot of the Debian live fixture needs, and
//! how long its hook takes to fetch the root image compared with the download alone.
//! Run it with `bench/boot-ram.sh`, which also extracts the hook of an earlier revision.
//!
//! For each part count (`--parts 1,3`: the root image published whole, or cut into 64 MiB
//! parts) the fixture ISO is published once with `repack run`. Each hook variant boots a copy
//! of that release whose initrd gets one more appended member:
//! - `after`: this tree's hook, unchanged, plus the timing component below;
//! - `before`: the hook given with `--before-hook FILE` (an earlier revision's
//!   `9999-repack.sh`) over this tree's, plus the timing component.
//!
//! The timing component (`9999-zz-bench.sh`, sourced after the hook, so its definitions win)
//! stamps the hook's progress lines with `/proc/uptime`, and before the tmpfs is mounted
//! downloads every listed part once to /dev/null with the hook's own tool (busybox wget):
//! the download alone. The fetch time is from the `fetching` line to `root filesystem
//! verified`. Then the smallest `-m` that still reaches the marker is bisected in steps of
//! `--step` MiB between `--low` and `--high`, two boots at a time. `--pad-mib N` appends N MiB
//! of filler to the root image first (past the SquashFS's end, which mounts ignore), so the
//! parts are large enough for a part held twice to show at that step.

use repack_bootgate::{BootOutcome, BootSpec, Firmware, boot};
use repack_e2e::Env;
use repack_testkit::fixtures::{debian_live, sha256_file};
use repack_testkit::upstream::Served;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

const RECIPE: &str = "debian-live";
/// Where live-boot looks for components in the fixture's merged-/usr initrd.
const COMPONENT_DIR: &str = "usr/lib/live/boot";
/// Sorted after `9999-repack.sh`, so what it defines replaces the hook's definitions.
const BENCH_COMPONENT: &str = r#"
# repack bench: stamps progress lines with the uptime and times the download alone.
repack_bench_now ()
{
	read -r repack_bench_up repack_bench_idle < /proc/uptime
	echo "${repack_bench_up}"
}

repack_log ()
{
	repack_bench_line="repack: $* [uptime $(repack_bench_now)]"
	echo "${repack_bench_line}" >> /dev/console 2> /dev/null
	echo "${repack_bench_line}"
}

repack_sizes ()
{
	repack_total=0
	repack_largest=0
	repack_count=0
	repack_bench_from=$(repack_bench_now)
	while read -r repack_bench_file repack_bench_part repack_bench_size repack_bench_sha <&3
	do
		repack_total=$((repack_total + repack_bench_size))
		repack_count=$((repack_count + 1))
		if [ "${repack_bench_size}" -gt "${repack_largest}" ]
		then
			repack_largest=${repack_bench_size}
		fi
		wget -q -O - "${repack_base}${repack_bench_part}" > /dev/null \
			|| echo "repack-bench: download alone failed ${repack_bench_part}" >> /dev/console
	done 3< "${repack_list}"
	echo "repack-bench: download alone ${repack_total} bytes from ${repack_bench_from} to $(repack_bench_now)" >> /dev/console
}
"#;

struct Options {
    parts: Vec<u32>,
    variants: Vec<String>,
    before_hook: Option<PathBuf>,
    low: u32,
    high: u32,
    step: u32,
    timeout: Duration,
    work: PathBuf,
    /// vCPUs of the boot that times the fetch (the bisection boots use one).
    timing_cpus: u32,
    /// MiB of filler appended to the fixture's root image (the SquashFS ignores bytes past
    /// its `bytes_used`), so its parts are big enough for a part held twice to show in a
    /// bisection of 64 MiB steps.
    pad_mib: u64,
}

fn options() -> Options {
    let mut options = Options {
        parts: vec![1, 3],
        variants: vec!["before".to_owned(), "after".to_owned()],
        before_hook: None,
        low: 256,
        high: 1536,
        step: 64,
        timeout: Duration::from_secs(420),
        work: std::env::temp_dir().join("repack-boot-ram"),
        timing_cpus: 2,
        pad_mib: 0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| panic!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--parts" => {
                options.parts = value()
                    .split(',')
                    .map(|n| n.parse().expect("--parts 1,3"))
                    .collect()
            }
            "--variants" => options.variants = value().split(',').map(str::to_owned).collect(),
            "--before-hook" => options.before_hook = Some(PathBuf::from(value())),
            "--low" => options.low = value().parse().expect("--low MiB"),
            "--high" => options.high = value().parse().expect("--high MiB"),
            "--step" => options.step = value().parse().expect("--step MiB"),
            "--timeout" => options.timeout = Duration::from_secs(value().parse().expect("s")),
            "--work" => options.work = PathBuf::from(value()),
            "--timing-cpus" => options.timing_cpus = value().parse().expect("--timing-cpus N"),
            "--pad-mib" => options.pad_mib = value().parse().expect("--pad-mib MiB"),
            "--bench" => {} // cargo bench passes it; harmless here
            other => panic!("unknown argument {other}"),
        }
    }
    if options.variants.iter().any(|variant| variant == "before") {
        assert!(
            options.before_hook.is_some(),
            "the before variant needs --before-hook FILE"
        );
    }
    options
}

/// The fixture's root image with `pad_mib` MiB of filler after it, in an ISO laid out like
/// the fixture's (or the fixture's own ISO when there is no padding); returns the ISO and
/// the root image's size.
fn padded_iso(work: &Path, pad_mib: u64) -> (PathBuf, u64) {
    let fixture = debian_live();
    let size = std::fs::metadata(&fixture.squashfs)
        .expect("fixture rootfs")
        .len();
    if pad_mib == 0 {
        return (fixture.iso.clone(), size);
    }
    let dir = work.join(format!("padded-{pad_mib}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("padding directory");
    let rootfs = dir.join("filesystem.squashfs");
    std::fs::copy(&fixture.squashfs, &rootfs).expect("root image copied");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&rootfs)
        .expect("root image opened");
    let filler: Vec<u8> = (0..1u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    for _ in 0..pad_mib {
        std::io::Write::write_all(&mut file, &filler).expect("filler written");
    }
    drop(file);
    let iso = repack_e2e::live_iso(&dir, &fixture.initrd, &rootfs);
    (iso, size + (pad_mib << 20))
}

/// Publishes the fixture with the root image cut into `parts` parts; returns the output dir.
async fn publish(env: &Env, parts: u32, work: &Path, pad_mib: u64) -> PathBuf {
    let (iso, rootfs) = padded_iso(work, pad_mib);
    env.serve_release("12.10.0", Served::file(&iso), &sha256_file(&iso));
    let part_size = rootfs.div_ceil(u64::from(parts)).div_ceil(1 << 20) << 20;
    let part_size = part_size.to_string();
    env.repack_with_env(&["run", RECIPE], &[("REPACK_PART_SIZE", &part_size)])
        .await
        .assert_success();
    env.output_dir()
}

/// The one release directory below `out`.
fn release_dir(out: &Path) -> PathBuf {
    let recipe = out.join(RECIPE);
    let mut tags = std::fs::read_dir(&recipe).expect("release directory");
    let tag = tags
        .next()
        .expect("one release")
        .expect("entry")
        .file_name();
    recipe.join(tag)
}

/// A copy of `out` (hard links) whose release initrd has `files` appended as one member.
fn variant(out: &Path, to: &Path, files: &[(PathBuf, String)]) {
    let _ = std::fs::remove_dir_all(to);
    link_tree(out, to);
    let initrd = release_dir(to).join("initrd");
    let patched = initrd.with_extension("patched");
    let mut command = std::process::Command::new(repack_testkit::repack_binary());
    command.args(["initrd", "append", "-o"]).arg(&patched);
    for (source, dest) in files {
        command
            .arg("--file")
            .arg(format!("{}:{dest}:644", source.display()));
    }
    let status = command.arg(&initrd).status().expect("repack runs");
    assert!(status.success(), "repack initrd append failed");
    std::fs::remove_file(&initrd).expect("unlink the linked initrd");
    std::fs::rename(&patched, &initrd).expect("patched initrd in place");
}

fn link_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create directory");
    for entry in std::fs::read_dir(from).expect("readable") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            link_tree(&entry.path(), &target);
        } else {
            std::fs::hard_link(entry.path(), &target).expect("hard link");
        }
    }
}

/// What one boot showed.
#[derive(Debug, Clone)]
struct Boot {
    memory_mib: u32,
    passed: bool,
    verdict: String,
    fetch_s: Option<f64>,
    download_alone_s: Option<f64>,
}

fn uptime_after(line: &str, marker: &str) -> Option<f64> {
    let rest = &line[line.find(marker)? + marker.len()..];
    rest.split(|c: char| c == ']' || c.is_whitespace())
        .next()?
        .parse()
        .ok()
}

async fn boot_once(dir: &Path, name: &str, memory_mib: u32, cpus: u32, timeout: Duration) -> Boot {
    let log = dir.join(format!("{memory_mib}-{cpus}cpu.console.log"));
    let mut spec = BootSpec::new(dir, RECIPE, Firmware::BiosIpxeKernel, &log);
    spec.memory_mib = memory_mib;
    spec.cpus = cpus;
    spec.timeout = timeout;
    let report = boot(&spec).await.expect("the boot runs");
    let console = String::from_utf8_lossy(&std::fs::read(&log).unwrap_or_default()).into_owned();
    let stamp = |prefix: &str| {
        console
            .lines()
            .find(|line| line.contains(prefix) && line.contains("[uptime "))
            .and_then(|line| uptime_after(line, "[uptime "))
    };
    let fetch_s = match (
        stamp("repack: fetching "),
        stamp("repack: root filesystem verified"),
    ) {
        (Some(from), Some(to)) => Some(to - from),
        _ => None,
    };
    let download_alone_s = console
        .lines()
        .find(|line| line.contains("repack-bench: download alone ") && line.contains(" from "))
        .and_then(|line| Some(uptime_after(line, " to ")? - uptime_after(line, " from ")?));
    let (passed, verdict) = match &report.outcome {
        BootOutcome::Passed { .. } => (true, "marker".to_owned()),
        BootOutcome::Failed { reason, line } => (
            false,
            format!("{} ({})", reason.kind(), line.clone().unwrap_or_default()),
        ),
    };
    let seconds = |value: Option<f64>| value.map_or_else(|| "-".to_owned(), |s| format!("{s:.2}"));
    eprintln!(
        "boot {name} -m {memory_mib} -smp {cpus}: {verdict}, {:.0} s, fetch {} s, download alone {} s",
        report.duration.as_secs_f64(),
        seconds(fetch_s),
        seconds(download_alone_s),
    );
    Boot {
        memory_mib,
        passed,
        verdict,
        fetch_s,
        download_alone_s,
    }
}

/// The smallest memory in `low..=high` (steps of `step`) that boots, assuming more never
/// hurts; every boot made on the way.
async fn bisect(
    dir: PathBuf,
    name: String,
    options: Arc<Options>,
    slots: Arc<Semaphore>,
) -> (String, Vec<Boot>) {
    let sizes: Vec<u32> = (options.low..=options.high)
        .step_by(options.step as usize)
        .collect();
    let mut boots = Vec::new();
    let try_size = |index: usize| {
        let (dir, name, slots, options) =
            (dir.clone(), name.clone(), slots.clone(), options.clone());
        let memory = sizes[index];
        async move {
            let _slot = slots.acquire().await.expect("open");
            boot_once(&dir, &name, memory, 1, options.timeout).await
        }
    };
    // The timing boot: the most memory, its own vCPUs, and the host to itself (both slots),
    // so the hook's hashing can run beside its download as on a real machine.
    let top = {
        let _slots = slots.acquire_many(2).await.expect("open");
        let memory = sizes[sizes.len() - 1];
        boot_once(&dir, &name, memory, options.timing_cpus, options.timeout).await
    };
    let top_passed = top.passed;
    boots.push(top);
    if !top_passed {
        return (name, boots);
    }
    let (mut lo, mut hi) = (0, sizes.len() - 1);
    while lo < hi {
        let mid = (lo + hi) / 2;
        let result = try_size(mid).await;
        let passed = result.passed;
        boots.push(result);
        if passed {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    (name, boots)
}

#[tokio::main]
async fn main() {
    let options = Arc::new(options());
    std::fs::create_dir_all(&options.work).expect("work directory");
    let bench_component = options.work.join("9999-zz-bench.sh");
    std::fs::write(&bench_component, BENCH_COMPONENT).expect("bench component");
    let slots = Arc::new(Semaphore::new(2));
    let mut envs = Vec::new();
    let mut runs = tokio::task::JoinSet::new();
    for &parts in &options.parts {
        let env = Env::new(1).await;
        let out = publish(&env, parts, &options.work, options.pad_mib).await;
        let manifest: serde_json::Value = serde_json::from_slice(
            &std::fs::read(release_dir(&out).join("manifest.json")).expect("manifest"),
        )
        .expect("manifest json");
        eprintln!(
            "published {parts} part(s); the manifest says ram_mib {}",
            manifest["ram_mib"]
        );
        for name in &options.variants {
            let mut files = vec![(
                bench_component.clone(),
                format!("{COMPONENT_DIR}/9999-zz-bench.sh"),
            )];
            if name == "before" {
                let hook = options.before_hook.clone().expect("checked");
                files.push((hook, format!("{COMPONENT_DIR}/9999-repack.sh")));
            }
            let dir = options.work.join(format!("{name}-{parts}"));
            variant(&out, &dir, &files);
            runs.spawn(bisect(
                dir,
                format!("{name}, {parts} part(s)"),
                options.clone(),
                slots.clone(),
            ));
        }
        envs.push(env);
    }
    let mut results = Vec::new();
    while let Some(result) = runs.join_next().await {
        results.push(result.expect("bisection ran"));
    }
    results.sort_by(|a, b| a.0.cmp(&b.0));
    println!(
        "| hook, root image | smallest -m that boots (MiB) | fetch s | download alone s | fetch / download | boots |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, boots) in &results {
        let smallest = boots
            .iter()
            .filter(|boot| boot.passed)
            .map(|boot| boot.memory_mib)
            .min();
        let largest_failed = boots
            .iter()
            .filter(|boot| !boot.passed)
            .map(|boot| boot.memory_mib)
            .max();
        let timed = boots
            .iter()
            .find(|boot| boot.passed && boot.fetch_s.is_some());
        let (fetch, alone) = timed
            .map(|boot| {
                (
                    boot.fetch_s.unwrap_or(0.0),
                    boot.download_alone_s.unwrap_or(0.0),
                )
            })
            .unwrap_or((0.0, 0.0));
        let ratio = if alone > 0.0 { fetch / alone } else { 0.0 };
        let smallest = match (smallest, largest_failed) {
            (Some(ok), Some(failed)) => format!("{ok} (fails at {failed})"),
            (Some(ok), None) => format!("≤ {ok}"),
            (None, _) => format!("none up to {}", options.high),
        };
        let tried: Vec<String> = boots
            .iter()
            .map(|boot| {
                let verdict = if boot.passed {
                    "ok"
                } else {
                    boot.verdict.split(' ').next().unwrap_or("failed")
                };
                format!("{}:{verdict}", boot.memory_mib)
            })
            .collect();
        println!(
            "| {name} | {smallest} | {fetch:.2} | {alone:.2} | {ratio:.2} | {} |",
            tried.join(", ")
        );
    }
    drop(envs);
}
