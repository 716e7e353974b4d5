//! `repack watch` end to end (issue 15): states against the catalogue, RFC 3339 times, the
//! exit code of a failing sweep, conditional requests on the second sweep, and `--all`
//! checking recipes concurrently under the per-host limit.
//!
//! The feeds come from a small HTTP/1.1 stand-in on 127.0.0.1 written here on a bare socket:
//! it answers `If-None-Match` with 304 and counts how many requests it is answering at once
//! (the shared feed stand-in does neither).

use repack_catalog::{Catalog, NewBuild};
use repack_core::{
    Arch, BootFamilyKind, BuildKey, FORMAT_VERSION, FileRole, Manifest, ManifestFile, ManifestPart,
    Sha256Digest, SourceIso,
};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TUESDAY: &str = "Tue, 05 Nov 2024 10:00:00 GMT";

/// One document the stand-in serves.
#[derive(Clone)]
struct Doc {
    body: String,
    etag: String,
    delay: Duration,
}

#[derive(Default)]
struct Served {
    docs: Mutex<HashMap<String, Doc>>,
    /// (path, status) of every request answered.
    log: Mutex<Vec<(String, u16)>>,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
}

struct Standin {
    base: String,
    served: Arc<Served>,
}

impl Standin {
    async fn start() -> Standin {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let served = Arc::new(Served::default());
        let shared = Arc::clone(&served);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(answer(stream, Arc::clone(&shared)));
            }
        });
        Standin { base, served }
    }

    fn put(&self, path: &str, body: String, delay: Duration) {
        let etag = format!("\"{}\"", &Sha256Digest::of(body.as_bytes()).to_hex()[..16]);
        self.served
            .docs
            .lock()
            .unwrap()
            .insert(path.to_owned(), Doc { body, etag, delay });
    }

    fn statuses(&self, path: &str) -> Vec<u16> {
        let log = self.served.log.lock().unwrap();
        log.iter()
            .filter(|(logged, _)| logged == path)
            .map(|(_, status)| *status)
            .collect()
    }
}

/// Answers one connection: one request, then `Connection: close`.
async fn answer(mut stream: tokio::net::TcpStream, served: Arc<Served>) {
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
        }
    }
    let now = served.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    served.most_in_flight.fetch_max(now, Ordering::SeqCst);
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
    let if_none_match = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("if-none-match")
            .then(|| value.trim().to_owned())
    });
    let doc = served.docs.lock().unwrap().get(&path).cloned();
    let (status, reply) = match doc {
        None => (
            404,
            "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n".to_owned(),
        ),
        Some(doc) => {
            tokio::time::sleep(doc.delay).await;
            let validators = format!("etag: {}\r\nlast-modified: {TUESDAY}\r\n", doc.etag);
            if if_none_match.as_deref() == Some(doc.etag.as_str()) {
                (304, format!("HTTP/1.1 304 Not Modified\r\n{validators}"))
            } else {
                let reply = format!(
                    "HTTP/1.1 200 OK\r\n{validators}content-type: text/plain\r\ncontent-length: {}\r\n\r\n{}",
                    doc.body.len(),
                    doc.body
                );
                (200, reply)
            }
        }
    };
    let mut reply = reply;
    if status != 200 {
        reply.push_str("\r\n");
    }
    let reply = reply.replacen("\r\n", "\r\nconnection: close\r\n", 1);
    served.log.lock().unwrap().push((path, status));
    served.in_flight.fetch_sub(1, Ordering::SeqCst);
    let _ = stream.write_all(reply.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// A checksum list naming `version`'s ISO.
fn list(id: &str, version: &str) -> String {
    format!(
        "{}  {id}-{version}-amd64.iso\n",
        Sha256Digest::of(format!("{id} {version}").as_bytes())
    )
}

fn recipe(id: &str, feed_url: &str) -> String {
    format!(
        r#"id = "{id}"
name = "{id}"
os = "test"
arch = "x86_64"
schedule = "0 4 * * *"
boot = "live-boot"

[watch]
kind = "checksums"
url = "{feed_url}"
pattern = '^{id}-(?P<version>[0-9.]+)-amd64\.iso$'

[iso]
kernel = "live/vmlinuz"
initrd = "live/initrd.img"
rootfs = ["live/filesystem.squashfs"]
"#
    )
}

/// A configuration with its own data directory and recipe directory.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "data_dir = \"{}\"\noutput_dir = \"{}\"\nrecipe_dirs = [\"{}\"]\nfetch_retries = 0\n",
            dir.path().join("data").display(),
            dir.path().join("out").display(),
            dir.path().join("recipes").display(),
        );
        std::fs::create_dir_all(dir.path().join("recipes")).unwrap();
        std::fs::write(dir.path().join("repack.toml"), config).unwrap();
        Setup { dir }
    }

    fn add_recipe(&self, id: &str, feed_url: &str) {
        let path = self.dir.path().join(format!("recipes/{id}.toml"));
        std::fs::write(path, recipe(id, feed_url)).unwrap();
    }

    fn database_url(&self) -> String {
        format!(
            "sqlite://{}",
            self.dir.path().join("data/catalog.db").display()
        )
    }

    /// Runs `repack watch <args>` (without blocking the stand-in): (exit code, stdout).
    async fn watch(&self, args: &[&str]) -> (i32, String) {
        let output = tokio::process::Command::new(repack_testkit::repack_binary())
            .arg("watch")
            .args(args)
            .env("REPACK_CONFIG", self.dir.path().join("repack.toml"))
            .env_remove("REPACK_DATA_DIR")
            .env_remove("REPACK_DATABASE_URL")
            .env_remove("REPACK_RECIPE_DIRS")
            .env_remove("REPACK_MIRRORS")
            .output()
            .await
            .expect("repack runs");
        let stdout = String::from_utf8(output.stdout).unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let code = output.status.code().expect("repack exited");
        assert!(
            code == 0 || code == 3,
            "repack watch {args:?} failed ({code}):\n{stderr}"
        );
        (code, stdout)
    }
}

/// Records `recipe` `version` as published and current.
async fn publish(database_url: &str, recipe: &str, version: &str) -> String {
    std::fs::create_dir_all(
        Path::new(database_url.trim_start_matches("sqlite://"))
            .parent()
            .unwrap(),
    )
    .unwrap();
    let catalog = Catalog::open(database_url).await.unwrap();
    let iso_sha256 = Sha256Digest::of(format!("{recipe} {version}").as_bytes());
    let recipe_hash = Sha256Digest::of(recipe.as_bytes());
    let key = BuildKey::new(iso_sha256, recipe_hash);
    let file = |name: &str, role| {
        let sha256 = Sha256Digest::of(name.as_bytes());
        ManifestFile {
            name: name.to_owned(),
            role,
            size: 1,
            sha256: Some(sha256),
            parts: vec![ManifestPart {
                name: name.to_owned(),
                size: 1,
                sha256,
                url: None,
            }],
        }
    };
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        recipe: recipe.to_owned(),
        name: recipe.to_owned(),
        os: "test".to_owned(),
        recipe_hash,
        build_key: key.id(),
        version: version.to_owned(),
        arch: Arch::X86_64,
        tag: key.tag(version),
        boot_family: BootFamilyKind::LiveBoot,
        cmdline: "boot=live".to_owned(),
        ram_mib: 2048,
        source: SourceIso {
            url: format!("https://upstream.invalid/{recipe}-{version}-amd64.iso"),
            sha256: iso_sha256,
            size: 1 << 20,
        },
        files: vec![
            file("vmlinuz", FileRole::Kernel),
            file("initrd", FileRole::Initrd),
            file("filesystem.squashfs", FileRole::Rootfs),
        ],
        repack_version: "0.1.0".to_owned(),
    };
    let tag = manifest.tag.clone();
    catalog
        .publish_build(&NewBuild::new(manifest, format!("{recipe}/{tag}")))
        .await
        .unwrap();
    catalog.close().await;
    tag
}

/// Every string at `key` anywhere in `value` parses as RFC 3339 in UTC.
fn assert_rfc3339_utc(value: &Value, key: &str, found: &mut usize) {
    match value {
        Value::Object(map) => {
            for (name, inner) in map {
                if name == key
                    && let Value::String(text) = inner
                {
                    time::OffsetDateTime::parse(
                        text,
                        &time::format_description::well_known::Rfc3339,
                    )
                    .unwrap_or_else(|error| panic!("{name} = {text}: {error}"));
                    assert!(text.ends_with('Z'), "{name} = {text} is not UTC");
                    *found += 1;
                }
                assert_rfc3339_utc(inner, key, found);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| assert_rfc3339_utc(item, key, found)),
        _ => {}
    }
}

fn by_recipe(reports: &Value) -> HashMap<String, Value> {
    reports
        .as_array()
        .expect("an array of reports")
        .iter()
        .map(|report| {
            (
                report["recipe"].as_str().unwrap().to_owned(),
                report.clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn watch_all_json_reports_new_current_and_failing_and_exits_3() {
    let standin = Standin::start().await;
    standin.put("/alpha/SHA256SUMS", list("alpha", "2.0"), Duration::ZERO);
    standin.put("/beta/SHA256SUMS", list("beta", "1.0"), Duration::ZERO);
    // gamma's list answers 404: a failing check, never "nothing new".
    let setup = Setup::new();
    for id in ["alpha", "beta", "gamma"] {
        setup.add_recipe(id, &format!("{}/{id}/SHA256SUMS", standin.base));
    }
    let beta_tag = publish(&setup.database_url(), "beta", "1.0").await;

    let (code, stdout) = setup.watch(&["--all", "--json"]).await;
    assert_eq!(
        code, 3,
        "a failing recipe makes the sweep exit 3:\n{stdout}"
    );
    let reports: Value = serde_json::from_str(&stdout).expect("stdout is JSON only");
    let ids: Vec<&str> = reports
        .as_array()
        .unwrap()
        .iter()
        .map(|report| report["recipe"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["alpha", "beta", "gamma"], "sorted by recipe");
    let first = by_recipe(&reports);

    let alpha = &first["alpha"];
    assert_eq!(alpha["state"], "new");
    assert_eq!(alpha["upstream"]["version"], "2.0");
    assert_eq!(
        alpha["upstream"]["iso_url"],
        format!("{}/alpha/alpha-2.0-amd64.iso", standin.base)
    );
    // A checksum list has no dates: its Last-Modified is the publish time.
    assert_eq!(alpha["upstream"]["published_at"], "2024-11-05T10:00:00Z");
    assert_eq!(alpha["published"], Value::Null);
    assert_eq!(alpha["error"], Value::Null);

    let beta = &first["beta"];
    assert_eq!(beta["state"], "current");
    assert_eq!(beta["upstream"]["version"], "1.0");
    assert_eq!(beta["published"]["version"], "1.0");
    assert_eq!(beta["published"]["tag"], beta_tag.as_str());

    let gamma = &first["gamma"];
    assert_eq!(gamma["state"], "failing");
    assert_eq!(gamma["error"]["kind"], "fetch-http-status");
    assert!(
        gamma["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/gamma/SHA256SUMS"),
        "{gamma}"
    );
    assert_eq!(gamma["error"]["consecutive_failures"], 1);
    assert_eq!(gamma["upstream"], Value::Null);

    let mut times = 0;
    for key in [
        "published_at",
        "first_seen_at",
        "last_seen_at",
        "since",
        "checked_at",
    ] {
        assert_rfc3339_utc(&reports, key, &mut times);
    }
    assert!(times >= 10, "only {times} times in {reports}");

    // The second sweep asks conditionally: the lists answer 304 and read no body, yet the
    // reports are the same; first sightings and the start of the failure stay.
    let (code, stdout) = setup.watch(&["--all", "--json"]).await;
    assert_eq!(code, 3);
    let second = by_recipe(&serde_json::from_str(&stdout).unwrap());
    assert_eq!(standin.statuses("/alpha/SHA256SUMS"), [200, 304]);
    assert_eq!(standin.statuses("/beta/SHA256SUMS"), [200, 304]);
    assert_eq!(second["alpha"]["state"], "new");
    assert_eq!(second["alpha"]["upstream"]["version"], "2.0");
    assert_eq!(
        second["alpha"]["upstream"]["first_seen_at"],
        first["alpha"]["upstream"]["first_seen_at"]
    );
    assert_eq!(second["beta"]["state"], "current");
    assert_eq!(
        second["gamma"]["error"]["since"],
        first["gamma"]["error"]["since"]
    );
    assert_eq!(second["gamma"]["error"]["consecutive_failures"], 2);

    // One recipe by id, for people: exit 0 when it is not failing.
    let (code, stdout) = setup.watch(&["alpha"]).await;
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("alpha") && stdout.contains(" new ") && stdout.contains("upstream 2.0"),
        "{stdout}"
    );
}

#[tokio::test]
async fn watch_all_checks_recipes_concurrently_within_the_per_host_limit() {
    let standin = Standin::start().await;
    let setup = Setup::new();
    let ids: Vec<String> = (1..=6).map(|n| format!("r{n}")).collect();
    for id in &ids {
        let path = format!("/{id}/SHA256SUMS");
        standin.put(&path, list(id, "1.0"), Duration::from_millis(500));
        setup.add_recipe(id, &format!("{}{path}", standin.base));
    }
    let started = std::time::Instant::now();
    let (code, stdout) = setup.watch(&["--all", "--json"]).await;
    let took = started.elapsed();
    assert_eq!(code, 0, "{stdout}");
    let reports = by_recipe(&serde_json::from_str(&stdout).unwrap());
    assert_eq!(reports.len(), 6);
    assert!(reports.values().all(|report| report["state"] == "new"));
    // Six recipes on one host: the sweep would take all six at once, the fetcher lets four
    // requests to one host be in flight.
    assert_eq!(standin.served.most_in_flight.load(Ordering::SeqCst), 4);
    assert!(
        took < Duration::from_millis(2900),
        "six 500 ms feeds took {took:?}: not concurrent"
    );
}
