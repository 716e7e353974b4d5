//! `repack publish github` against the testkit's GitHub stand-in: a built release directory
//! is published through the same publisher the pipeline uses, explicit files with `--tag`,
//! re-runs change nothing, and the token never shows in the output.

use repack_core::{
    Arch, BootFamilyKind, FileRole, Manifest, ManifestFile, ManifestPart, Sha256Digest, SourceIso,
};
use repack_testkit::github::{AssetState, GitHubStandIn};
use std::path::Path;

const REPO: &str = "acme/netboot";
const TOKEN: &str = "e2e-token-91b7d4";

/// Writes a small release directory (kernel, initrd, manifest.json, SHA256SUMS).
fn release_dir(dir: &Path) -> Manifest {
    let part = |name: &str, data: &[u8]| {
        std::fs::write(dir.join(name), data).unwrap();
        ManifestPart {
            name: name.to_owned(),
            size: data.len() as u64,
            sha256: Sha256Digest::of(data),
            url: None,
        }
    };
    let file = |name: &str, role, data: &[u8]| ManifestFile {
        name: name.to_owned(),
        role,
        size: data.len() as u64,
        sha256: Some(Sha256Digest::of(data)),
        parts: vec![part(name, data)],
    };
    let build_key = Sha256Digest::of(b"e2e build");
    let manifest = Manifest {
        format_version: 1,
        recipe: "debian-live".to_owned(),
        name: "Debian Live".to_owned(),
        os: "debian".to_owned(),
        recipe_hash: Sha256Digest::of(b"recipe"),
        build_key,
        version: "12.10.0".to_owned(),
        arch: Arch::X86_64,
        tag: format!("12.10.0-{}", &build_key.to_hex()[..8]),
        boot_family: BootFamilyKind::LiveBoot,
        cmdline: "boot=live".to_owned(),
        ram_mib: 1024,
        source: SourceIso {
            url: "https://upstream.invalid/debian-live.iso".to_owned(),
            sha256: Sha256Digest::of(b"iso"),
            size: 1,
        },
        files: vec![
            file("vmlinuz", FileRole::Kernel, &[7u8; 20_000]),
            file("initrd", FileRole::Initrd, &[9u8; 30_000]),
        ],
        repack_version: "test".to_owned(),
    };
    let sums: String = manifest
        .files
        .iter()
        .flat_map(|f| &f.parts)
        .map(|p| format!("{}  {}\n", p.sha256, p.name))
        .collect();
    std::fs::write(dir.join("SHA256SUMS"), sums).unwrap();
    let mut json = serde_json::to_vec_pretty(&manifest).unwrap();
    json.push(b'\n');
    std::fs::write(dir.join("manifest.json"), json).unwrap();
    manifest
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn publish(
    github: &GitHubStandIn,
    config: &Path,
    args: &[&str],
    token: Option<&str>,
) -> Output {
    let mut command = tokio::process::Command::new(repack_testkit::repack_binary());
    command
        .args(["publish", "github"])
        .args(args)
        .args(["--repo", REPO, "--api-url", github.api_url()])
        .args(["--uploads-url", github.uploads_url()])
        .env("REPACK_CONFIG", config)
        .env("REPACK_LOG_FORMAT", "text")
        .env_remove("GITHUB_TOKEN");
    if let Some(token) = token {
        command.env("GITHUB_TOKEN", token);
    }
    let output = command.output().await.expect("repack runs");
    Output {
        code: output.status.code().expect("repack exited"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[tokio::test]
async fn publish_github_publishes_a_release_directory_and_explicit_files() {
    let github = GitHubStandIn::start(REPO, TOKEN).await;
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("repack.toml");
    std::fs::write(&config, "").unwrap();
    let dir = work.path().join("release");
    std::fs::create_dir(&dir).unwrap();
    let manifest = release_dir(&dir);
    let tag = format!("debian-live-{}", manifest.tag);

    let run = publish(&github, &config, &[dir.to_str().unwrap()], Some(TOKEN)).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, format!("releases/download/{tag}\n"));
    let releases = github.releases();
    assert_eq!(releases.len(), 1);
    assert_eq!(releases[0].tag, tag);
    assert!(!releases[0].draft);
    for name in ["vmlinuz", "initrd", "SHA256SUMS", "manifest.json"] {
        let asset = releases[0].asset(name).unwrap();
        assert_eq!(asset.state, AssetState::Uploaded);
        let bytes = std::fs::read(dir.join(name)).unwrap();
        assert_eq!(asset.sha256, Sha256Digest::of(&bytes).to_hex(), "{name}");
    }
    assert!(!run.stderr.contains(TOKEN) && !run.stdout.contains(TOKEN));

    // Again: nothing to do, nothing written.
    github.clear_requests();
    let again = publish(&github, &config, &[dir.to_str().unwrap()], Some(TOKEN)).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stderr.contains("already published"),
        "{}",
        again.stderr
    );
    assert!(github.requests().iter().all(|r| !r.is_write()));

    // Exactly the files given, under --tag, with JSON output.
    let notes = work.path().join("notes.txt");
    std::fs::write(&notes, b"release notes").unwrap();
    let files = publish(
        &github,
        &config,
        &["--tag", "tools-1", "--json", notes.to_str().unwrap()],
        Some(TOKEN),
    )
    .await;
    assert_eq!(files.code, 0, "{}", files.stderr);
    let document: serde_json::Value = serde_json::from_str(&files.stdout).unwrap();
    assert_eq!(document["newly_published"], true);
    assert_eq!(document["location"], "releases/download/tools-1");
    assert!(!files.stdout.contains(TOKEN));
    let tools = github
        .releases()
        .into_iter()
        .find(|release| release.tag == "tools-1")
        .unwrap();
    assert_eq!(tools.assets.len(), 1);
    assert_eq!(
        tools.assets[0].content.as_deref(),
        Some(&b"release notes"[..])
    );

    // Without a token: a clear error, nothing sent.
    github.clear_requests();
    let refused = publish(&github, &config, &[dir.to_str().unwrap()], None).await;
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("GITHUB_TOKEN"),
        "{}",
        refused.stderr
    );
    assert!(github.requests().is_empty());
}
