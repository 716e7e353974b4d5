//! `repack-bench-serve`: HTTP load on `repack serve` from a second process (`wrk`, Debian's
//! package) on 127.0.0.1, for a bounded time per endpoint:
//!
//! - `GET /menu.ipxe`, rendered from a catalogue of `--builds` current builds at every
//!   request (SQLite, the embedded default);
//! - `POST /hooks/github`: a signed `release` delivery with a new delivery id per request (a
//!   Lua script numbers them per wrk thread), so every request verifies the HMAC, records the
//!   delivery and enqueues (collapsing into the recipe's pending job) in one write
//!   transaction.
//!
//! Prints requests/s, p50 and p99 latency per endpoint and fails when any request failed or
//! answered other than 200/202, or when fewer deliveries were recorded than requests were
//! answered (ids repeated: replays are cheaper and would flatter the figures). Usage: `cargo build --release -p repack -p repack-bench`,
//! then `target/release/repack-bench-serve --repack target/release/repack` (bench/README.md).

use anyhow::{Context, Result, bail, ensure};
use clap::Parser;
use hmac::{KeyInit, Mac};
use repack_catalog::{Catalog, CheckOutcome, NewBuild};
use repack_core::{
    Arch, BootFamilyKind, BuildKey, FORMAT_VERSION, FileRole, Manifest, ManifestFile, ManifestPart,
    Sha256Digest, SourceIso,
};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Load `repack serve`'s menu and webhook endpoints with wrk.
#[derive(Debug, Parser)]
struct Args {
    /// The repack binary (a release build).
    #[arg(long)]
    repack: PathBuf,
    /// Current builds in the catalogue (one recipe each).
    #[arg(long, default_value_t = 40)]
    builds: usize,
    /// Seconds of load per endpoint.
    #[arg(long, default_value_t = 10)]
    seconds: u32,
    /// Open connections.
    #[arg(long, default_value_t = 32)]
    connections: u32,
}

const SECRET: &str = "bench webhook secret";

fn manifest(recipe: &str) -> Manifest {
    let iso_sha256 = Sha256Digest::of(recipe.as_bytes());
    let recipe_hash = Sha256Digest::of(format!("recipe {recipe}").as_bytes());
    let key = BuildKey::new(iso_sha256, recipe_hash);
    let file = |name: &str, role, size| ManifestFile {
        name: name.to_owned(),
        role,
        size,
        sha256: Some(Sha256Digest::of(name.as_bytes())),
        parts: vec![ManifestPart {
            name: name.to_owned(),
            size,
            sha256: Sha256Digest::of(name.as_bytes()),
            url: None,
        }],
    };
    Manifest {
        format_version: FORMAT_VERSION,
        recipe: recipe.to_owned(),
        name: format!("Bench {recipe}"),
        os: "bench".to_owned(),
        recipe_hash,
        build_key: key.id(),
        version: "1.0".to_owned(),
        arch: Arch::X86_64,
        tag: key.tag("1.0"),
        boot_family: BootFamilyKind::LiveBoot,
        cmdline: "boot=live fetch={base}/filesystem.squashfs".to_owned(),
        ram_mib: 2048,
        source: SourceIso {
            url: format!("https://releases.example/{recipe}.iso"),
            sha256: iso_sha256,
            size: 1 << 30,
        },
        files: vec![
            file("vmlinuz", FileRole::Kernel, 8 << 20),
            file("initrd.img", FileRole::Initrd, 40 << 20),
            file("filesystem.squashfs", FileRole::Rootfs, 900 << 20),
        ],
        repack_version: "bench".to_owned(),
    }
}

fn recipe_file(id: &str) -> String {
    format!(
        r#"id = "{id}"
name = "Bench {id}"
os = "bench"
arch = "x86_64"
schedule = "0 4 * * *"
boot = "live-boot"
webhooks = ["github:bench/{id}"]

[watch]
kind = "checksums"
url = "http://127.0.0.1:9/{id}/SHA256SUMS"
pattern = '^{id}-(?P<version>[0-9.]+)-amd64\.iso$'

[iso]
kernel = "live/vmlinuz"
initrd = "live/initrd.img"
rootfs = ["live/filesystem.squashfs"]
"#
    )
}

/// One wrk run's figures.
struct Load {
    requests_per_second: f64,
    p50: String,
    p99: String,
    requests: u64,
}

fn wrk(args: &Args, url: &str, script: Option<&Path>) -> Result<Load> {
    let mut command = Command::new("wrk");
    command.args([
        "-t2",
        &format!("-c{}", args.connections),
        &format!("-d{}s", args.seconds),
        "--latency",
    ]);
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    let output = command
        .arg(url)
        .output()
        .context("cannot run wrk (Debian package `wrk`)")?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    ensure!(
        output.status.success(),
        "wrk failed:\n{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    if text.contains("Non-2xx or 3xx responses") || text.contains("Socket errors") {
        bail!("{url}: some requests failed:\n{text}");
    }
    let field = |prefix: &str| -> Result<String> {
        text.lines()
            .find_map(|line| {
                line.trim()
                    .strip_prefix(prefix)
                    .map(|rest| rest.trim().to_owned())
            })
            .with_context(|| format!("no `{prefix}` in wrk's output:\n{text}"))
    };
    let requests = text
        .lines()
        .find_map(|line| {
            line.trim()
                .split_once(" requests in ")
                .map(|(count, _)| count.to_owned())
        })
        .context("no request count in wrk's output")?;
    Ok(Load {
        requests_per_second: field("Requests/sec:")?.parse()?,
        p50: field("50%")?,
        p99: field("99%")?,
        requests: requests.parse()?,
    })
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    let repack = std::fs::canonicalize(&args.repack)
        .with_context(|| format!("repack binary {}", args.repack.display()))?;
    let dir = tempfile::tempdir()?;
    let recipes = dir.path().join("recipes");
    std::fs::create_dir_all(&recipes)?;
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data)?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let catalog =
            Catalog::open(&format!("sqlite://{}", data.join("catalog.db").display())).await?;
        for n in 0..args.builds {
            let id = format!("bench-{n:03}");
            std::fs::write(recipes.join(format!("{id}.toml")), recipe_file(&id))?;
            let manifest = manifest(&id);
            let location = format!("{id}/{}", manifest.tag);
            catalog
                .publish_build(&NewBuild::new(manifest, location))
                .await?;
            catalog.record_check(&id, CheckOutcome::Success).await?;
        }
        catalog.close().await;
        anyhow::Ok(())
    })?;
    let config = dir.path().join("repack.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{}\"\nrecipe_dirs = [\"{}\"]\npublic_url = \"http://boot.lan/repack\"\n",
            data.display(),
            recipes.display()
        ),
    )?;
    let mut child = Command::new(&repack)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("REPACK_CONFIG", &config)
        .env("REPACK_LOG", "warn")
        .env("REPACK_GITHUB_WEBHOOK_SECRET", SECRET)
        .env_remove("REPACK_DATA_DIR")
        .env_remove("REPACK_DATABASE_URL")
        .env_remove("REPACK_RECIPE_DIRS")
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot start repack serve")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .with_context(|| format!("unexpected first line `{line}`"))?
        .to_owned();

    let menu = wrk(&args, &format!("{base}/menu.ipxe"), None)?;

    let body = r#"{"action":"published","release":{"tag_name":"1.1","draft":false,"prerelease":false},"repository":{"full_name":"bench/bench-000"}}"#;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes())?;
    mac.update(body.as_bytes());
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let script = dir.path().join("hook.lua");
    std::fs::write(
        &script,
        format!(
            r#"threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
counter = 0
wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-GitHub-Event"] = "release"
wrk.headers["X-Hub-Signature-256"] = "{signature}"
request = function()
  counter = counter + 1
  wrk.headers["X-GitHub-Delivery"] = string.format("bench-%d-%d", tid, counter)
  return wrk.format()
end
"#
        ),
    )?;
    let hooks = wrk(&args, &format!("{base}/hooks/github"), Some(&script))?;
    drop(server);
    // Every answered request recorded a delivery of its own (wrk does not count the requests
    // still in flight when it stops, which the server may have recorded too).
    let deliveries: i64 = runtime.block_on(async {
        let catalog =
            Catalog::open(&format!("sqlite://{}", data.join("catalog.db").display())).await?;
        let count = sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries")
            .fetch_one(catalog.database().pool())
            .await;
        catalog.close().await;
        anyhow::Ok(count?)
    })?;
    let deliveries = u64::try_from(deliveries)?;
    ensure!(
        deliveries >= hooks.requests,
        "{} webhook requests answered but only {deliveries} deliveries recorded: delivery ids repeated",
        hooks.requests
    );

    for (what, load) in [("GET /menu.ipxe", &menu), ("POST /hooks/github", &hooks)] {
        println!(
            "{what}: {:.0} requests/s, p50 {}, p99 {} ({} requests in {} s, {} connections, no errors)",
            load.requests_per_second,
            load.p50,
            load.p99,
            load.requests,
            args.seconds,
            args.connections
        );
    }
    Ok(())
}
