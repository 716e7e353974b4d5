//! `repack-bench`: the data path of `repack run` against the incumbent's tool chain and the
//! physical floor, in one run, on the same ≥ 4 GB ISO served by one HTTP server on 127.0.0.1.
//!
//! Variants (each run in a fresh directory that is deleted afterwards; the ISO stays cached):
//! - **a** `repack run debian-live`, cold download cache, through a mirror rewrite.
//! - **b** the incumbent: `curl -o`, `7z x` (or `bsdtar -x`), `unmkinitramfs`, copy one file
//!   into the tree, `find | cpio -H newc -o | zstd`, `split -b 2097151999`.
//! - **c** the floor: `curl -o` and one `sha256sum` pass.
//! - **c2** (information only) the floor with a SHA-NI hasher: `curl -o` + `openssl dgst -sha256`.
//! - **curl** the download alone: `curl -o`, the floor every variant is compared with.
//!
//! `--busy` starts a fixed CPU burner (one spinning thread) beside every run. The SHA-256
//! pass over the ISO's size is timed once with the `sha2` code repack uses, and repack's user
//! CPU is compared with two such passes (the ISO's digest and the published parts').
//!
//! Before every run the page cache is dropped (as root) so all variants start cold, including
//! the server's copy of the ISO. Usage: `bench/run.sh` (builds and calls this binary).

mod iso;
mod measure;

use anyhow::{Context, Result, bail};
use clap::Parser;
use measure::Sample;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where the recipe's watcher looks, below the mirror root.
const LIVE_DIR: &str = "debian-cd/current-live/amd64/iso-hybrid";
const ISO_NAME: &str = "debian-live-12.99.0-amd64-standard.iso";
/// The incumbent's part size (netboot.xyz's `split -b`).
const INCUMBENT_PART: u64 = 2_097_151_999;

/// Benchmark repack's data path (see the crate docs).
#[derive(Debug, Parser)]
struct Args {
    /// The repack binary to time (a release build).
    #[arg(long)]
    repack: PathBuf,
    /// How often each variant runs (interleaved: a b c, a b c, ...).
    #[arg(long, default_value_t = 2)]
    rounds: u32,
    /// Size of the random root image in MiB (default 4.5 GiB, so it is multi-extent).
    #[arg(long, default_value_t = 4608)]
    rootfs_mib: u64,
    /// Variants to run, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "a,b,c,c2")]
    variants: Vec<String>,
    /// Cache and scratch root (default `~/.cache/repack/bench`; must have ~3× the ISO free).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Do not drop the page cache between runs.
    #[arg(long)]
    keep_caches: bool,
    /// After dropping the page cache, read the served ISO once so the server sends it from
    /// memory, as a remote mirror would: only the variant's own disk work hits this disk.
    /// Without it the server's reads compete with the variant's writes on the same disk.
    #[arg(long)]
    warm_source: bool,
    /// Also write the table to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Keep each run's log as `<dir>/<variant>-<round>.log`.
    #[arg(long)]
    keep_logs: Option<PathBuf>,
    /// Run a fixed CPU burner (one spinning thread) beside every run.
    #[arg(long)]
    busy: bool,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let root = args.dir.clone().unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into()))
            .join(".cache/repack/bench")
    });
    fs::create_dir_all(&root)?;
    let repack = fs::canonicalize(&args.repack)
        .with_context(|| format!("repack binary {}", args.repack.display()))?;
    let iso = iso::ensure(&root, args.rootfs_mib << 20)?;
    eprintln!(
        "bench: ISO {} ({} bytes, root image {} bytes, sha256 {})",
        iso.path.display(),
        iso.size,
        iso.rootfs_size,
        iso.sha256_hex
    );

    let sha256_pass = measure::sha256_pass(iso.size);
    eprintln!(
        "bench: one SHA-256 pass over {} bytes (sha2, in memory): {:.2} s CPU",
        iso.size,
        sha256_pass.as_secs_f64()
    );

    // The one server every variant downloads from.
    let serve_root = root.join("serve");
    let _ = fs::remove_dir_all(&serve_root);
    fs::create_dir_all(serve_root.join(LIVE_DIR))?;
    std::os::unix::fs::symlink(&iso.path, serve_root.join(LIVE_DIR).join(ISO_NAME))?;
    fs::write(
        serve_root.join(LIVE_DIR).join("SHA256SUMS"),
        format!("{}  {ISO_NAME}\n", iso.sha256_hex),
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = axum::Router::new().fall_back_service_dir(&serve_root);
    runtime.spawn(async move { axum::serve(listener, app).await });
    let iso_url = format!("{base}/{LIVE_DIR}/{ISO_NAME}");

    let hook = root.join("incumbent-hook.sh");
    fs::write(
        &hook,
        "#!/bin/sh\n# replacement script copied in by the incumbent\nexit 0\n",
    )?;
    let seven_zip = have("7z");
    let mut results: Vec<(String, Vec<Sample>)> = args
        .variants
        .iter()
        .map(|name| (name.clone(), Vec::new()))
        .collect();
    let mut dropped = true;
    for round in 1..=args.rounds {
        for (name, samples) in results.iter_mut() {
            let run_dir = root.join(format!("run-{name}"));
            let _ = fs::remove_dir_all(&run_dir);
            fs::create_dir_all(&run_dir)?;
            let mut command = match name.as_str() {
                "a" => repack_command(&repack, &run_dir, &base)?,
                "b" => shell(&run_dir, &incumbent_script(&iso_url, &hook, seven_zip)),
                "c" => shell(
                    &run_dir,
                    &format!("curl -sS --fail -o iso.iso '{iso_url}'\nsha256sum iso.iso"),
                ),
                "c2" => shell(
                    &run_dir,
                    &format!(
                        "curl -sS --fail -o iso.iso '{iso_url}'\nopenssl dgst -sha256 iso.iso"
                    ),
                ),
                // Diagnostics only: the download alone, with curl's progress meter in the log.
                "curl" => shell(&run_dir, &format!("curl --fail -o iso.iso '{iso_url}'")),
                other => bail!("unknown variant `{other}` (a, b, c, c2, curl)"),
            };
            if !args.keep_caches {
                dropped &= measure::drop_caches();
            }
            if args.warm_source {
                std::io::copy(&mut fs::File::open(&iso.path)?, &mut std::io::sink())?;
            }
            let burner = args.busy.then(measure::Burner::start);
            eprintln!(
                "bench: round {round}, variant {name} (load {:.2}{})",
                measure::load_average(),
                if burner.is_some() {
                    ", CPU burner on"
                } else {
                    ""
                }
            );
            let sample = measure::run(&mut command, &run_dir);
            drop(burner);
            let sample = sample.with_context(|| {
                format!(
                    "variant {name} failed; its log is in {}",
                    run_dir.join("log").display()
                )
            })?;
            check_outputs(name, &run_dir, &iso)?;
            eprintln!(
                "bench:   {:.2} s ({:.2} s durable), CPU {:.1} s ({:.1} s system), peak RSS {} MiB, wrote {:.2} GB",
                sample.wall.as_secs_f64(),
                sample.durable.as_secs_f64(),
                sample.cpu.as_secs_f64(),
                sample.sys.as_secs_f64(),
                sample.max_rss_bytes >> 20,
                sample.write_bytes as f64 / 1e9
            );
            samples.push(sample);
            if let Some(logs) = &args.keep_logs {
                fs::create_dir_all(logs)?;
                fs::copy(
                    run_dir.join("log"),
                    logs.join(format!("{name}-{round}.log")),
                )?;
            }
            fs::remove_dir_all(&run_dir)?;
        }
    }

    let table = render(
        &results,
        &iso,
        Conditions {
            dropped: !args.keep_caches && dropped,
            warm_source: args.warm_source,
            seven_zip,
            rounds: args.rounds,
            busy: args.busy,
            sha256_pass,
        },
    );
    println!("{table}");
    if let Some(out) = &args.out {
        fs::write(out, &table)?;
    }
    let _ = fs::remove_dir_all(&serve_root);
    Ok(())
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool} >/dev/null")])
        .status()
        .is_ok_and(|status| status.success())
}

fn shell(run_dir: &Path, script: &str) -> Command {
    let mut command = Command::new("bash");
    command
        .args(["-euo", "pipefail", "-c", script])
        .current_dir(run_dir)
        .stdin(Stdio::null());
    redirect(&mut command, run_dir);
    command
}

fn redirect(command: &mut Command, run_dir: &Path) {
    let log = fs::File::create(run_dir.join("log")).expect("log file");
    command
        .stdout(log.try_clone().expect("log file"))
        .stderr(log);
}

fn repack_command(repack: &Path, run_dir: &Path, base: &str) -> Result<Command> {
    let recipes = repack_testkit::workspace_root().join("recipes");
    let config = format!(
        r#"data_dir = "{run}/data"
output_dir = "{run}/out"
public_url = "http://10.0.2.100"
recipe_dirs = ["{recipes}"]

[[mirror]]
from = "https://cdimage.debian.org/"
to = "{base}/"
"#,
        run = run_dir.display(),
        recipes = recipes.display(),
    );
    fs::write(run_dir.join("repack.toml"), config)?;
    let mut command = Command::new(repack);
    command
        .args(["run", "debian-live"])
        .current_dir(run_dir)
        .env("REPACK_CONFIG", run_dir.join("repack.toml"))
        .env("REPACK_LOG_FORMAT", "json")
        .env_remove("REPACK_DATA_DIR")
        .env_remove("REPACK_OUTPUT_DIR")
        .env_remove("REPACK_MIRRORS")
        .env_remove("REPACK_PART_SIZE")
        .stdin(Stdio::null());
    redirect(&mut command, run_dir);
    Ok(command)
}

/// netboot.xyz's build, step by step, on the same ISO.
fn incumbent_script(iso_url: &str, hook: &Path, seven_zip: bool) -> String {
    let extract = if seven_zip {
        "7z x -y -oiso iso.iso >/dev/null"
    } else {
        "mkdir iso && bsdtar -x -f iso.iso -C iso"
    };
    format!(
        r#"curl -sS --fail -o iso.iso '{iso_url}'
{extract}
mkdir out
unmkinitramfs iso/live/initrd.img-* initrd
tree=initrd; [ -d initrd/main ] && tree=initrd/main
mkdir -p "$tree/scripts" && cp '{hook}' "$tree/scripts/9990-incumbent.sh"
(cd "$tree" && find . | cpio -H newc -o --quiet | zstd -q -T0) > out/initrd
cp iso/live/vmlinuz-* out/vmlinuz
split -b {INCUMBENT_PART} -d iso/live/filesystem.squashfs out/filesystem.squashfs.part
"#,
        hook = hook.display()
    )
}

/// Refuses a run that "succeeded" without producing what it should have.
fn check_outputs(name: &str, run_dir: &Path, iso: &iso::BenchIso) -> Result<()> {
    let sum_of = |dir: &Path, prefix: &str| -> Result<u64> {
        let mut total = 0;
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with(prefix) {
                total += entry.metadata()?.len();
            }
        }
        Ok(total)
    };
    match name {
        "a" => {
            let release = fs::read_dir(run_dir.join("out/debian-live"))
                .context("repack published no release")?
                .next()
                .context("repack published no release")??
                .path();
            let rootfs = sum_of(&release, "filesystem.squashfs")?;
            if rootfs != iso.rootfs_size {
                bail!(
                    "repack published {rootfs} root image bytes, expected {}",
                    iso.rootfs_size
                );
            }
        }
        "b" => {
            let rootfs = sum_of(&run_dir.join("out"), "filesystem.squashfs")?;
            if rootfs != iso.rootfs_size {
                bail!(
                    "the incumbent split {rootfs} bytes, expected {}",
                    iso.rootfs_size
                );
            }
        }
        "curl" => {}
        _ => {
            let log = fs::read_to_string(run_dir.join("log"))?;
            if !log.contains(&iso.sha256_hex) {
                bail!("the floor's hash does not match: {log}");
            }
        }
    }
    Ok(())
}

fn median(samples: &[Sample], key: impl Fn(&Sample) -> f64) -> f64 {
    let mut values: Vec<f64> = samples.iter().map(key).collect();
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// How the runs of one table were made.
struct Conditions {
    dropped: bool,
    warm_source: bool,
    seven_zip: bool,
    rounds: u32,
    busy: bool,
    sha256_pass: std::time::Duration,
}

fn render(results: &[(String, Vec<Sample>)], iso: &iso::BenchIso, how: Conditions) -> String {
    let Conditions {
        dropped,
        warm_source,
        seven_zip,
        rounds,
        busy,
        sha256_pass,
    } = how;
    let label = |name: &str| match name {
        "a" => "(a) repack run".to_owned(),
        "b" => format!(
            "(b) incumbent: curl, {}, unmkinitramfs, cpio + zstd, split",
            if seven_zip { "7z x" } else { "bsdtar -x" }
        ),
        "c" => "(c) floor: curl -o + sha256sum".to_owned(),
        "c2" => "(c2) curl -o + openssl sha256 (info)".to_owned(),
        "curl" => "(curl) curl -o alone: the download floor".to_owned(),
        other => other.to_owned(),
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "ISO: {:.2} GB ({} bytes; root image {} bytes, multi-extent), {} round(s), page cache {}; \
         served ISO {}",
        iso.size as f64 / 1e9,
        iso.size,
        iso.rootfs_size,
        rounds,
        if dropped {
            "dropped before every run"
        } else {
            "NOT dropped"
        },
        if warm_source {
            "read into memory before every run (a remote mirror's disk is not ours)"
        } else {
            "read from this disk during the run (competes with the variant's writes)"
        }
    );
    let _ = writeln!(
        out,
        "{}; one SHA-256 pass over the ISO's size (sha2, in memory): {:.2} s CPU.",
        if busy {
            "busy: a CPU burner (one spinning thread) ran beside every run"
        } else {
            "quiet: nothing started beside the runs"
        },
        sha256_pass.as_secs_f64()
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| variant | wall s (each run) | durable s (each run) | CPU s | user s | peak RSS MiB | written GB | load before |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
    for (name, samples) in results {
        let each = |key: &dyn Fn(&Sample) -> String| {
            samples.iter().map(key).collect::<Vec<_>>().join(" / ")
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            label(name),
            each(&|s| format!("{:.2}", s.wall.as_secs_f64())),
            each(&|s| format!("{:.2}", s.durable.as_secs_f64())),
            each(&|s| format!("{:.1}", s.cpu.as_secs_f64())),
            each(&|s| format!("{:.1}", s.user().as_secs_f64())),
            each(&|s| format!("{}", s.max_rss_bytes >> 20)),
            each(&|s| format!("{:.2}", s.write_bytes as f64 / 1e9)),
            each(&|s| format!("{:.2}", s.load_before)),
        );
    }
    let find = |name: &str| {
        results
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.as_slice())
    };
    if let Some(a) = find("a") {
        let _ = writeln!(out);
        let _ = writeln!(out, "Ratios of medians (wall / durable):");
        let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };
        let wall = |s: &Sample| s.wall.as_secs_f64();
        let durable = |s: &Sample| s.durable.as_secs_f64();
        if let Some(b) = find("b") {
            let (rw, rd) = (
                median(b, wall) / median(a, wall),
                median(b, durable) / median(a, durable),
            );
            let _ = writeln!(
                out,
                "- b/a = {rw:.2}× / {rd:.2}× (target: a ≥ 3× faster than b): {} / {}",
                verdict(rw >= 3.0),
                verdict(rd >= 3.0)
            );
        }
        if let Some(curl) = find("curl") {
            let (rw, rd) = (
                median(a, wall) / median(curl, wall),
                median(a, durable) / median(curl, durable),
            );
            let _ = writeln!(
                out,
                "- a/curl = {rw:.2}× / {rd:.2}× (repack against the download alone)"
            );
        }
        let user = median(a, |s| s.user().as_secs_f64());
        let passes = 2.0 * sha256_pass.as_secs_f64();
        let _ = writeln!(
            out,
            "- user CPU of repack = {user:.2} s = {:.2}× two SHA-256 passes ({passes:.2} s) (target: ≤ 1.3×): {}",
            user / passes,
            verdict(user / passes <= 1.3)
        );
        for floor in ["c", "c2"] {
            if let Some(c) = find(floor) {
                let (rw, rd) = (
                    median(a, wall) / median(c, wall),
                    median(a, durable) / median(c, durable),
                );
                let target = if floor == "c" {
                    "target: ≤ 1.3×"
                } else {
                    "information"
                };
                let _ = writeln!(
                    out,
                    "- a/{floor} = {rw:.2}× / {rd:.2}× ({target}): {} / {}",
                    verdict(rw <= 1.3),
                    verdict(rd <= 1.3)
                );
            }
        }
        let rss = a.iter().map(|s| s.max_rss_bytes).max().unwrap_or(0);
        let _ = writeln!(
            out,
            "- peak RSS of repack = {} MiB (target: ≤ 100 MB): {}",
            rss >> 20,
            verdict(rss <= 100_000_000)
        );
    }
    out
}

/// `ServeDir` as the fallback of a router, so every path is served from one directory.
trait ServeDirExt {
    fn fall_back_service_dir(self, dir: &Path) -> Self;
}

impl ServeDirExt for axum::Router {
    fn fall_back_service_dir(self, dir: &Path) -> Self {
        self.fallback_service(tower_http::services::ServeDir::new(dir))
    }
}
