//! `repack serve` end to end, as an operator runs it beside `repack worker`: a signed GitHub
//! webhook for a repository a recipe names queues a build (202), the worker builds it, and the
//! server then serves the menu, the published files with Range and the status page; `repack
//! status --check-links` finds every file and reports the one that is deleted. SIGTERM stops
//! the server. The status page of a catalogue with a current, a failing and a stale recipe
//! renders in headless Chromium.

use repack_core::Arch;
use repack_e2e::Env;
use repack_testkit::fixtures::{debian_live, sha256_file};
use repack_testkit::upstream::Served;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SECRET: &str = "e2e webhook secret";

/// A running `repack serve` (killed when dropped, unless stopped).
struct Serve {
    child: Option<Child>,
    url: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A port free right now on 127.0.0.1, for a public URL the server must know in advance.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn command(env: &Env, args: &[&str], public_url: &str) -> Command {
    let mut command = Command::new(repack_testkit::repack_binary());
    command
        .args(args)
        .current_dir(env.dir.path())
        .env("REPACK_CONFIG", env.dir.path().join("repack.toml"))
        .env("REPACK_LOG_FORMAT", "json")
        .env("REPACK_PUBLIC_URL", public_url)
        .env_remove("REPACK_DATA_DIR")
        .env_remove("REPACK_OUTPUT_DIR");
    command
}

/// Starts `repack serve` on `port` and waits for its `listening on` line.
fn start_serve(env: &Env, port: u16, public_url: &str) -> Serve {
    let mut child = command(
        env,
        &["serve", "--listen", &format!("127.0.0.1:{port}")],
        public_url,
    )
    .env("REPACK_GITHUB_WEBHOOK_SECRET", SECRET)
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .expect("repack serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line `{line}`"))
        .to_owned();
    assert_eq!(url, format!("http://127.0.0.1:{port}"));
    Serve {
        child: Some(child),
        url,
    }
}

fn signature(body: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn a_webhook_queues_a_build_that_the_server_then_serves() {
    let fixture = debian_live();
    let env = Env::new(0).await;
    env.serve_release(
        "12.10.0",
        Served::file(&fixture.iso),
        &sha256_file(&fixture.iso),
    );
    env.with_recipe_override(
        "debian-live",
        "kernel_args = []",
        "webhooks = [\"github:Debian/live-images\"]\nkernel_args = []",
    );
    let port = free_port();
    let public_url = format!("http://127.0.0.1:{port}/files");
    let serve = start_serve(&env, port, &public_url);
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(format!("{}/healthz", serve.url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // The release webhook, signed: 202, one job; unsigned: 401, nothing.
    let body = serde_json::to_vec(&serde_json::json!({
        "action": "published",
        "release": { "tag_name": "12.10.0", "draft": false, "prerelease": false },
        "repository": { "full_name": "debian/live-images" }
    }))
    .unwrap();
    let post = |signature: Option<String>| {
        let mut request = http
            .post(format!("{}/hooks/github", serve.url))
            .header("X-GitHub-Event", "release")
            .header("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
            .body(body.clone());
        if let Some(signature) = signature {
            request = request.header("X-Hub-Signature-256", signature);
        }
        request.send()
    };
    assert_eq!(post(None).await.unwrap().status(), 401);
    let accepted = post(Some(signature(&body))).await.unwrap();
    assert_eq!(accepted.status(), 202);
    let answer: serde_json::Value = accepted.json().await.unwrap();
    assert_eq!(answer["jobs"][0]["recipe"], "debian-live", "{answer}");
    let jobs: serde_json::Value = http
        .get(format!("{}/api/v1/jobs", serve.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jobs.as_array().unwrap().len(), 1, "{jobs}");
    assert_eq!(jobs[0]["reason"], "webhook");

    // A worker beside the server builds it.
    let mut worker = command(
        &env,
        &["worker", "--slots", "1", "--grace-seconds", "5"],
        &public_url,
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let catalog = env.catalog().await;
    let started = Instant::now();
    let build = loop {
        if let Some(build) = catalog.current("debian-live", Arch::X86_64).await.unwrap() {
            break build;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "nothing built in 3 minutes"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let _ = worker.kill();
    let _ = worker.wait();

    // The menu points at the server's files; the files come with Range.
    let menu = http
        .get(format!("{}/menu.ipxe", serve.url))
        .send()
        .await
        .unwrap();
    assert_eq!(menu.status(), 200);
    let menu = menu.text().await.unwrap();
    assert!(
        menu.contains(&public_url) && menu.contains(&build.tag),
        "{menu}"
    );
    let rootfs = build
        .manifest
        .files
        .iter()
        .find(|file| file.role == repack_core::FileRole::Rootfs)
        .unwrap();
    let part = &rootfs.parts[0];
    let local = env.output_dir().join(&build.location).join(&part.name);
    let on_disk = std::fs::read(&local).unwrap();
    let range = http
        .get(format!("{public_url}/{}/{}", build.location, part.name))
        .header("Range", "bytes=4096-8191")
        .send()
        .await
        .unwrap();
    assert_eq!(range.status(), 206);
    assert_eq!(range.bytes().await.unwrap().as_ref(), &on_disk[4096..8192]);

    // The status page shows the build as current.
    let page = http
        .get(&serve.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"recipe-debian-live\""), "{page}");
    assert!(
        page.contains("<span class=\"state current\">current</span>"),
        "{page}"
    );

    // Every published file is there; then one is gone and the check says which.
    let check = env
        .repack_with_env(
            &["status", "--check-links"],
            &[("REPACK_PUBLIC_URL", &public_url)],
        )
        .await;
    assert_eq!(check.code, Some(0), "{}\n{}", check.stdout, check.stderr);
    assert!(check.stdout.contains("links: 0 of "), "{}", check.stdout);
    std::fs::remove_file(&local).unwrap();
    let check = env
        .repack_with_env(
            &["status", "--check-links", "--json"],
            &[("REPACK_PUBLIC_URL", &public_url)],
        )
        .await;
    assert_eq!(check.code, Some(3), "{}", check.stderr);
    let report: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
    let broken = report["broken_links"].as_array().unwrap();
    assert_eq!(broken.len(), 1, "{report}");
    assert!(broken[0]["url"].as_str().unwrap().ends_with(&part.name));
    assert_eq!(broken[0]["status"], 404);

    // SIGTERM: the server stops cleanly.
    let mut serve = serve;
    let mut child = serve.child.take().unwrap();
    // SAFETY: sends a signal to the child this test started.
    assert_eq!(
        unsafe { libc::kill(i32::try_from(child.id()).unwrap(), libc::SIGTERM) },
        0
    );
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
}
