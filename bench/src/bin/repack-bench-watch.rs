//! `repack-bench-watch`: how long `repack watch --all` takes to sweep many recipes when
//! nothing changed upstream, i.e. when every feed request is conditional and answered 304.
//!
//! Sets up `--recipes` recipe files (kind `checksums`), each watching its own list on one
//! stand-in server on 127.0.0.1 (one host: the fetcher's per-host limit applies), and a fresh
//! data directory (SQLite catalogue). One sweep fills the catalogue's feed copies (every
//! list answers 200); then `--rounds` sweeps are timed, spawn to exit, and every request
//! they make must have been answered 304 (checked; the bench fails otherwise). Prints each
//! round and the median. Target: under one second for 50 recipes.
//!
//! Usage: `cargo build --release -p repack -p repack-bench`, then
//! `target/release/repack-bench-watch --repack target/release/repack` (see bench/README.md).

use anyhow::{Context, Result, bail, ensure};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clap::Parser;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Time `repack watch --all` over recipes whose feeds all answer 304.
#[derive(Debug, Parser)]
struct Args {
    /// The repack binary to time (a release build).
    #[arg(long)]
    repack: PathBuf,
    /// How many recipes to sweep.
    #[arg(long, default_value_t = 50)]
    recipes: usize,
    /// How many timed sweeps (after the one that fills the cache).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
}

/// What the stand-in answered.
#[derive(Default)]
struct Counts {
    ok: AtomicUsize,
    not_modified: AtomicUsize,
}

/// `Last-Modified` of every list.
const LAST_MODIFIED: &str = "Tue, 05 Nov 2024 10:00:00 GMT";

fn list(recipe: &str) -> String {
    let digest = hex::encode(Sha256::digest(recipe.as_bytes()));
    format!("{digest}  {recipe}-1.0-amd64.iso\n")
}

fn etag(recipe: &str) -> String {
    let digest = hex::encode(Sha256::digest(list(recipe).as_bytes()));
    format!("\"{}\"", &digest[..16])
}

/// `/<recipe>/SHA256SUMS`: the list, or 304 when `If-None-Match` names its tag.
async fn serve_list(
    State(counts): State<Arc<Counts>>,
    Path(recipe): Path<String>,
    headers: HeaderMap,
) -> Response {
    let tag = etag(&recipe);
    let validators = [
        (header::ETAG, tag.clone()),
        (header::LAST_MODIFIED, LAST_MODIFIED.to_owned()),
    ];
    let asked = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok());
    if asked == Some(tag.as_str()) {
        counts.not_modified.fetch_add(1, Ordering::SeqCst);
        return (StatusCode::NOT_MODIFIED, validators).into_response();
    }
    counts.ok.fetch_add(1, Ordering::SeqCst);
    (StatusCode::OK, validators, list(&recipe)).into_response()
}

fn recipe_file(id: &str, base: &str) -> String {
    format!(
        r#"id = "{id}"
name = "Bench {id}"
os = "bench"
arch = "x86_64"
schedule = "0 4 * * *"
boot = "live-boot"

[watch]
kind = "checksums"
url = "{base}/{id}/SHA256SUMS"
pattern = '^{id}-(?P<version>[0-9.]+)-amd64\.iso$'

[iso]
kernel = "live/vmlinuz"
initrd = "live/initrd.img"
rootfs = ["live/filesystem.squashfs"]
"#
    )
}

fn main() -> Result<()> {
    let args = Args::parse();
    ensure!(args.recipes > 0 && args.rounds > 0, "nothing to time");
    let repack = std::fs::canonicalize(&args.repack)
        .with_context(|| format!("repack binary {}", args.repack.display()))?;
    let runtime = tokio::runtime::Runtime::new()?;
    let counts = Arc::new(Counts::default());
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = axum::Router::new()
        .route("/{recipe}/SHA256SUMS", axum::routing::get(serve_list))
        .with_state(Arc::clone(&counts));
    runtime.spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir()?;
    let recipes = dir.path().join("recipes");
    std::fs::create_dir_all(&recipes)?;
    for n in 0..args.recipes {
        let id = format!("bench-{n:03}");
        std::fs::write(recipes.join(format!("{id}.toml")), recipe_file(&id, &base))?;
    }
    let config = dir.path().join("repack.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{}\"\nrecipe_dirs = [\"{}\"]\n",
            dir.path().join("data").display(),
            recipes.display()
        ),
    )?;
    let sweep = || -> Result<Duration> {
        let started = Instant::now();
        let output = Command::new(&repack)
            .args(["watch", "--all", "--json"])
            .env("REPACK_CONFIG", &config)
            .env("REPACK_LOG", "warn")
            .env_remove("REPACK_DATA_DIR")
            .env_remove("REPACK_DATABASE_URL")
            .env_remove("REPACK_RECIPE_DIRS")
            .env_remove("REPACK_MIRRORS")
            .stdin(Stdio::null())
            .output()
            .context("cannot run repack")?;
        let took = started.elapsed();
        if !output.status.success() {
            bail!(
                "repack watch --all failed ({}):\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(took)
    };

    let warm = sweep()?;
    let filled = counts.ok.load(Ordering::SeqCst);
    ensure!(
        filled == args.recipes,
        "the first sweep asked {filled} lists, not {}",
        args.recipes
    );
    eprintln!(
        "bench: first sweep (every list 200, cache filled): {:.3} s",
        warm.as_secs_f64()
    );
    let mut times = Vec::with_capacity(args.rounds);
    for round in 1..=args.rounds {
        let before = counts.not_modified.load(Ordering::SeqCst);
        let took = sweep()?;
        let answered = counts.not_modified.load(Ordering::SeqCst) - before;
        ensure!(
            answered == args.recipes && counts.ok.load(Ordering::SeqCst) == filled,
            "round {round}: {answered} of {} requests were answered 304",
            args.recipes
        );
        eprintln!(
            "bench: round {round}: {} recipes, all 304: {:.3} s",
            args.recipes,
            took.as_secs_f64()
        );
        times.push(took);
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "repack watch --all over {} recipes, every feed 304: median {:.3} s (min {:.3} s, max {:.3} s, {} rounds)",
        args.recipes,
        median.as_secs_f64(),
        times[0].as_secs_f64(),
        times[times.len() - 1].as_secs_f64(),
        args.rounds
    );
    Ok(())
}
