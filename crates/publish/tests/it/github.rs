//! The GitHub publisher against the testkit's strict stand-in. Every test asserts the
//! stand-in's final state: releases (tag, draft, body), assets (name, state, size, sha256 of
//! the bytes received).

use repack_core::{
    Arch, BootFamilyKind, FileRole, Manifest, ManifestFile, ManifestPart, Sha256Digest, SourceIso,
};
use repack_publish::{
    GitHubConfig, GitHubPublisher, Protection, PublishedPart, Publisher, RetryPolicy,
    StagedRelease, Token,
};
use repack_testkit::github::{AssetState, Cut, GitHubStandIn, Port, RateLimit, StandInRelease};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const REPO: &str = "acme/netboot";
const TOKEN: &str = "stand-in-token-5f2c9e";
const RECIPE: &str = "debian-live";

fn policy() -> RetryPolicy {
    RetryPolicy {
        budget: Duration::from_secs(2),
        first_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        max_rate_limit_wait: Duration::from_secs(5),
    }
}

fn config(github: &GitHubStandIn) -> GitHubConfig {
    GitHubConfig {
        repo: REPO.to_owned(),
        api_url: github.api_url().to_owned(),
        uploads_url: github.uploads_url().to_owned(),
        credentials: Token::new(TOKEN).into(),
        keep: None,
        retry: policy(),
        menu_dir: None,
    }
}

fn publisher(github: &GitHubStandIn) -> GitHubPublisher {
    GitHubPublisher::new(config(github)).unwrap()
}

/// Deterministic bytes that differ per build and per file.
fn bytes(seed: &str, len: usize) -> Vec<u8> {
    let mut state = Sha256Digest::of(seed.as_bytes()).to_hex().into_bytes();
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        out.extend_from_slice(&state);
        state = Sha256Digest::of(&state).to_hex().into_bytes();
    }
    out.truncate(len);
    out
}

/// Lays a release out in `dir` (kernel, initrd, a root image in two parts, manifest) and
/// returns it adopted, so each run can be handed a fresh [`StagedRelease`] of the same files.
fn build(dir: &Path, version: &str, seed: &str) -> Manifest {
    let part = |name: &str, data: &[u8]| {
        std::fs::write(dir.join(name), data).unwrap();
        ManifestPart {
            name: name.to_owned(),
            size: data.len() as u64,
            sha256: Sha256Digest::of(data),
            url: None,
        }
    };
    let file = |name: &str, role, parts: Vec<ManifestPart>, whole: &[u8]| ManifestFile {
        name: name.to_owned(),
        role,
        size: whole.len() as u64,
        sha256: Some(Sha256Digest::of(whole)),
        parts,
    };
    let kernel = bytes(&format!("{seed}/kernel"), 70_000);
    let initrd = bytes(&format!("{seed}/initrd"), 50_000);
    let rootfs = bytes(&format!("{seed}/rootfs"), 300_000);
    let (first, second) = rootfs.split_at(200_000);
    let build_key = Sha256Digest::of(seed.as_bytes());
    let manifest = Manifest {
        format_version: 1,
        recipe: RECIPE.to_owned(),
        name: "Debian Live".to_owned(),
        os: "debian".to_owned(),
        recipe_hash: Sha256Digest::of(b"recipe"),
        build_key,
        version: version.to_owned(),
        arch: Arch::X86_64,
        tag: format!("{version}-{}", &build_key.to_hex()[..8]),
        boot_family: BootFamilyKind::LiveBoot,
        cmdline: "boot=live fetch={base}/filesystem.squashfs".to_owned(),
        ram_mib: 1024,
        source: SourceIso {
            url: format!("https://upstream.invalid/debian-live-{version}.iso"),
            sha256: Sha256Digest::of(format!("{seed}/iso").as_bytes()),
            size: 123_456,
        },
        files: vec![
            file(
                "vmlinuz",
                FileRole::Kernel,
                vec![part("vmlinuz", &kernel)],
                &kernel,
            ),
            file(
                "initrd",
                FileRole::Initrd,
                vec![part("initrd", &initrd)],
                &initrd,
            ),
            file(
                "filesystem.squashfs",
                FileRole::Rootfs,
                vec![
                    part("filesystem.squashfs", first),
                    part("filesystem.squashfs.part2", second),
                ],
                &rootfs,
            ),
        ],
        repack_version: "test".to_owned(),
    };
    repack_assemble::write_manifest(dir, &manifest).unwrap();
    manifest
}

fn release_tag(manifest: &Manifest) -> String {
    format!("{}-{}", manifest.recipe, manifest.tag)
}

fn sha256_hex(path: &Path) -> String {
    Sha256Digest::of(&std::fs::read(path).unwrap()).to_hex()
}

/// The one release tagged like `manifest`: published, holding exactly the release's files,
/// each uploaded with the right size and the sha256 of the bytes on disk.
fn assert_published(github: &GitHubStandIn, dir: &Path, manifest: &Manifest) -> StandInRelease {
    let tag = release_tag(manifest);
    let releases: Vec<StandInRelease> = github
        .releases()
        .into_iter()
        .filter(|release| release.tag == tag)
        .collect();
    assert_eq!(releases.len(), 1, "one release for {tag}: {releases:#?}");
    let release = releases.into_iter().next().unwrap();
    assert!(!release.draft, "{tag} is published");
    let mut expected: Vec<String> = manifest.stored_names().map(str::to_owned).collect();
    expected.extend(["SHA256SUMS".to_owned(), "manifest.json".to_owned()]);
    let mut names: Vec<String> = release.assets.iter().map(|a| a.name.clone()).collect();
    names.sort();
    expected.sort();
    assert_eq!(names, expected, "assets of {tag}");
    for asset in &release.assets {
        let path = dir.join(&asset.name);
        assert_eq!(asset.state, AssetState::Uploaded, "{}", asset.name);
        assert_eq!(
            asset.size,
            std::fs::metadata(&path).unwrap().len(),
            "{}",
            asset.name
        );
        assert_eq!(asset.sha256, sha256_hex(&path), "{}", asset.name);
    }
    assert_eq!(
        release.asset("manifest.json").unwrap().content.as_deref(),
        Some(std::fs::read(dir.join("manifest.json")).unwrap().as_slice())
    );
    release
}

#[tokio::test]
async fn happy_path_uploads_every_asset_to_a_draft_then_publishes_it() {
    let github = GitHubStandIn::start(REPO, TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = build(dir.path(), "12.10.0", "one");
    let published = publisher(&github)
        .publish(StagedRelease::open(dir.path()).unwrap())
        .await
        .unwrap();
    assert!(published.newly_published);
    assert_eq!(
        published.location,
        format!("releases/download/{}", release_tag(&manifest))
    );
    let release = assert_published(&github, dir.path(), &manifest);
    assert!(release.tag.starts_with("debian-live-12.10.0-"));
    assert!(
        release.body.contains(&manifest.source.url),
        "{}",
        release.body
    );
    assert!(release.body.contains(&manifest.source.sha256.to_hex()));
    let requests = github.requests();
    assert!(requests.iter().all(|request| request.authorized));
    // The release was created as a draft, filled, and only then published; the manifest
    // went last of the uploads.
    let uploads: Vec<String> = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/assets"))
        .map(|r| r.query.clone().unwrap_or_default())
        .collect();
    assert_eq!(uploads.last().unwrap(), "name=manifest.json");
    assert_eq!(uploads.len(), 6);
    let patch = requests.iter().position(|r| r.method == "PATCH").unwrap();
    assert_eq!(patch, requests.len() - 1);
    // The staged directory was adopted: publishing left it in place.
    assert!(dir.path().join("vmlinuz").is_file());
}

#[tokio::test]
async fn upload_killed_mid_way_resumes_without_a_second_release_or_duplicate_asset() {
    let github = GitHubStandIn::start(REPO, TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = build(dir.path(), "12.10.0", "one");
    // The first upload stalls after 10 000 bytes; the "process" is killed there.
    github.cut_uploads(Cut::Stall, 10_000, 1);
    let attempt = {
        let publisher = publisher(&github);
        let release = StagedRelease::open(dir.path()).unwrap();
        tokio::spawn(async move { publisher.publish(release).await })
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let stalled = github.releases().iter().any(|release| {
            release
                .assets
                .iter()
                .any(|a| a.state == AssetState::Starter && a.size == 10_000)
        });
        if stalled {
            break;
        }
        assert!(Instant::now() < deadline, "the upload never stalled");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    attempt.abort();
    let _ = attempt.await;
    let releases = github.releases();
    assert_eq!(releases.len(), 1);
    assert!(releases[0].draft);
    assert_eq!(releases[0].assets.len(), 1);
    assert_eq!(releases[0].assets[0].state, AssetState::Starter);
    let starter = releases[0].assets[0].id;

    let published = publisher(&github)
        .publish(StagedRelease::open(dir.path()).unwrap())
        .await
        .unwrap();
    assert!(published.newly_published);
    let release = assert_published(&github, dir.path(), &manifest);
    assert_eq!(release.id, releases[0].id, "the draft was resumed");
    assert_eq!(github.releases().len(), 1);
    assert!(
        github
            .requests()
            .iter()
            .any(|r| r.method == "DELETE" && r.path.ends_with(&format!("/assets/{starter}"))),
        "the starter asset was deleted"
    );
}

#[tokio::test]
async fn upload_cut_by_the_network_is_retried_in_the_same_run() {
    for cut in [Cut::BadGateway, Cut::Reset] {
        let github = GitHubStandIn::start(REPO, TOKEN).await;
        let dir = tempfile::tempdir().unwrap();
        let manifest = build(dir.path(), "12.10.0", "one");
        github.cut_uploads(cut, 30_000, 2);
        publisher(&github)
            .publish(StagedRelease::open(dir.path()).unwrap())
            .await
            .unwrap_or_else(|error| panic!("{cut:?}: {error}"));
        assert_published(&github, dir.path(), &manifest);
        // Each cut left a starter holding the name, which the run deleted before uploading
        // again.
        let deleted = github
            .requests()
            .iter()
            .filter(|r| r.method == "DELETE" && r.path.contains("/releases/assets/"))
            .count();
        assert_eq!(deleted, 2, "{cut:?}");
    }
}

#[tokio::test]
async fn stale_and_half_made_assets_on_the_draft_are_replaced() {
    let github = GitHubStandIn::start(REPO, TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = build(dir.path(), "12.10.0", "one");
    let body = format!(
        "an earlier attempt\n<!-- repack-recipe: {RECIPE} -->\n<!-- repack-identity: {} -->\n",
        manifest.build_key.to_hex()
    );
    let draft = github.seed_release(&release_tag(&manifest), &body, true);
    // Complete and matching: kept. Different bytes: replaced. Half-made: deleted. Unlisted:
    // removed.
    let initrd = std::fs::read(dir.path().join("initrd")).unwrap();
    github.seed_asset(draft, "initrd", &initrd, AssetState::Uploaded);
    github.seed_asset(draft, "vmlinuz", b"stale kernel", AssetState::Uploaded);
    github.seed_asset(draft, "filesystem.squashfs", b"half", AssetState::Starter);
    github.seed_asset(draft, "leftover.bin", b"?", AssetState::Uploaded);
    let kept = github.releases()[0].asset("initrd").unwrap().id;

    publisher(&github)
        .publish(StagedRelease::open(dir.path()).unwrap())
        .await
        .unwrap();
    let release = assert_published(&github, dir.path(), &manifest);
    assert_eq!(release.id, draft);
    assert_eq!(
        release.asset("initrd").unwrap().id,
        kept,
        "matching asset kept"
    );
    let uploads = github
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.query.as_deref() == Some("name=initrd"))
        .count();
    assert_eq!(uploads, 0, "the matching asset was not uploaded again");
}

#[tokio::test]
async fn rate_limited_requests_wait_for_the_reset_then_succeed() {
    let github = GitHubStandIn::start(REPO, TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = build(dir.path(), "12.10.0", "one");
    github.rate_limit_next(1, RateLimit::Primary { reset_in_secs: 1 });
    publisher(&github)
        .publish(StagedRelease::open(dir.path()).unwrap())
        .await
        .unwrap();
    assert_published(&github, dir.path(), &manifest);
    let statuses: Vec<u16> = github.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses[0], 403);
    assert_eq!(statuses[1], 200, "the same listing, after the reset");

    let other = tempfile::tempdir().unwrap();
    let second = build(other.path(), "12.11.0", "two");
    github.rate_limit_next(
        2,
        RateLimit::Secondary {
            retry_after_secs: 1,
        },
    );
    publisher(&github)
        .publish(StagedRelease::open(other.path()).unwrap())
        .await
        .unwrap();
    assert_published(&github, other.path(), &second);

    // A reset later than the publisher may wait fails at once, saying so.
    let third = tempfile::tempdir().unwrap();
    build(third.path(), "12.12.0", "three");
    github.rate_limit_next(
        1,
        RateLimit::Primary {
            reset_in_secs: 3600,
        },
    );
    let started = Instant::now();
    let error = publisher(&github)
        .publish(StagedRelease::open(third.path()).unwrap())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "publish-github-rate-limited", "{error}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(github.releases().len(), 2);
}

#[tokio::test]
async fn server_error_storm_fails_within_the_budget_leaving_a_resumable_draft() {
    let github = GitHubStandIn::start(REPO, TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = build(dir.path(), "12.10.0", "one");
    // Before anything exists: a clear failure, nothing created.
    github.fail_always(503);
    let error = publisher(&github)
        .publish(StagedRelease::open(dir.path()).unwrap())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "publish-github-unavailable", "{error}");
    assert!(
        error
            .to_string()
            .contains("GET /repos/acme/netboot/releases"),
        "{error}"
    );
    assert!(github.releases().is_empty());

    // Every upload fails (502, a starter left each time): the run gives up within its
    // budget, naming the endpoint, and leaves the draft.
    github.heal();
    github.cut_uploads(Cut::BadGateway, 1_000, u32::MAX);
    let started = Instant::now();
    let error = publisher(&github)
        .publish(StagedRelease::open(dir.path()).unwrap())
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        elapsed < policy().budget + Duration::from_secs(3),
        "{elapsed:?}"
    );
    let text = error.to_string();
    assert_eq!(error.kind(), "publish-github-unavailable", "{text}");
    assert!(text.contains("/assets?name=vmlinuz"), "{text}");
    assert!(text.contains("502"), "{text}");
    assert!(text.contains("the next run resumes it"), "{text}");
    let releases = github.releases();
    assert_eq!(releases.len(), 1);
    assert!(releases[0].draft);

    github.heal();
    publisher(&github)
        .publish(StagedRelease::open(dir.path()).unwrap())
        .await
        .unwrap();
    let release = assert_published(&github, dir.path(), &manifest);
    assert_eq!(release.id, releases[0].id);
}

#[tokio::test]
async fn lost_answers_never_make_a_second_release_or_asset() {
    let github = GitHubStandIn::start(REPO, TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = build(dir.path(), "12.10.0", "one");
    github.set_immutable(true);
    // The draft's creation and the first uploads happen, but their answers are lost.
    github.lose_answers(3);
    publisher(&github)
        .publish(StagedRelease::open(dir.path()).unwrap())
        .await
        .unwrap();
    assert_eq!(github.releases().len(), 1, "{:#?}", github.releases());
    assert_published(&github, dir.path(), &manifest);
    let creates = github
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/releases"))
        .count();
    assert_eq!(creates, 1, "the lost creation was found, not repeated");

    // The publishing PATCH happens but its answer is lost; the retry meets an immutable
    // release, which is already what was wanted.
    let other = tempfile::tempdir().unwrap();
    let second = build(other.path(), "12.11.0", "two");
    github.clear_requests();
    github.lose_answers_to("PATCH", 1);
    publisher(&github)
        .publish(StagedRelease::open(other.path()).unwrap())
        .await
        .unwrap();
    let patches: Vec<u16> = github
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| r.status)
        .collect();
    assert_eq!(patches, [502, 422]);
    assert_eq!(github.releases().len(), 2);
    assert_published(&github, other.path(), &second);
}

#[tokio::test]
async fn rerun_of_a_published_build_is_a_no_op_without_writes() {
    let github = GitHubStandIn::start(REPO, TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = build(dir.path(), "12.10.0", "one");
    github.set_immutable(true);
    publisher(&github)
        .publish(StagedRelease::open(dir.path()).unwrap())
        .await
        .unwrap();
    let before = github.releases();
    github.clear_requests();
    let again = publisher(&github)
        .publish(StagedRelease::open(dir.path()).unwrap())
        .await
        .unwrap();
    assert!(!again.newly_published);
    let requests = github.requests();
    assert!(!requests.is_empty());
    assert!(requests.iter().all(|r| !r.is_write()), "{requests:#?}");
    let after = assert_published(&github, dir.path(), &manifest);
    assert_eq!(before.len(), 1);
    assert_eq!(after.assets.len(), before[0].assets.len());

    // Another build under the same (published) tag is refused, not merged into it.
    let other = tempfile::tempdir().unwrap();
    build(other.path(), "12.10.0", "one");
    std::fs::write(other.path().join("SHA256SUMS"), b"changed\n").unwrap();
    let mut changed = repack_assemble::read_manifest(other.path()).unwrap();
    changed.build_key = Sha256Digest::of(b"another build");
    repack_assemble::write_manifest(other.path(), &changed).unwrap();
    let error = publisher(&github)
        .publish(StagedRelease::open(other.path()).unwrap())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "publish-conflict", "{error}");
}

#[tokio::test]
async fn names_github_would_rewrite_and_two_gib_files_are_refused_before_any_request() {
    let github = GitHubStandIn::start(REPO, TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let mut manifest = build(dir.path(), "12.10.0", "one");
    // `+` is a plain name for a directory, but GitHub would store it as `.`.
    std::fs::rename(dir.path().join("initrd"), dir.path().join("initrd+x")).unwrap();
    manifest.files[1].parts[0].name = "initrd+x".to_owned();
    repack_assemble::write_manifest(dir.path(), &manifest).unwrap();
    let error = publisher(&github)
        .publish(StagedRelease::open(dir.path()).unwrap())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "publish-asset-name", "{error}");
    assert!(error.to_string().contains("initrd+x"), "{error}");

    let files = tempfile::tempdir().unwrap();
    let spaced = files.path().join("with space.txt");
    std::fs::write(&spaced, b"x").unwrap();
    let error = publisher(&github)
        .publish_files("v1", &[spaced])
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "publish-asset-name", "{error}");

    // Exactly 2 GiB (sparse: no disk used) is one byte too many.
    let big = files.path().join("big.img");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(2 * 1024 * 1024 * 1024)
        .unwrap();
    let error = publisher(&github)
        .publish_files("v1", &[big])
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "publish-asset-too-large", "{error}");

    assert!(github.requests().is_empty(), "{:#?}", github.requests());
    assert!(github.releases().is_empty());
}

#[tokio::test]
async fn explicit_files_become_exactly_the_release_assets() {
    let github = GitHubStandIn::start(REPO, TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = ["a.bin", "b.txt"]
        .iter()
        .map(|name| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes(name, 5_000)).unwrap();
            path
        })
        .collect();
    let published = publisher(&github)
        .publish_files("tools-1", &files)
        .await
        .unwrap();
    assert!(published.newly_published);
    let releases = github.releases();
    assert_eq!(releases.len(), 1);
    assert_eq!(releases[0].tag, "tools-1");
    assert!(!releases[0].draft);
    assert_eq!(releases[0].assets.len(), 2);
    for path in &files {
        let name = path.file_name().unwrap().to_str().unwrap();
        let asset = releases[0].asset(name).unwrap();
        assert_eq!(asset.sha256, sha256_hex(path));
        assert_eq!(asset.state, AssetState::Uploaded);
    }
    let again = publisher(&github)
        .publish_files("tools-1", &files)
        .await
        .unwrap();
    assert!(!again.newly_published);
    assert_eq!(github.releases().len(), 1);
}

#[tokio::test]
async fn retention_never_deletes_current_or_referenced_releases() {
    let github = GitHubStandIn::start(REPO, TOKEN).await;
    let mut config = config(&github);
    config.keep = Some(1);
    let publisher = GitHubPublisher::new(config).unwrap();
    let dirs: Vec<tempfile::TempDir> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut locations = Vec::new();
    for (index, dir) in dirs.iter().enumerate() {
        build(
            dir.path(),
            &format!("12.{index}.0"),
            &format!("build-{index}"),
        );
        let published = publisher
            .publish(StagedRelease::open(dir.path()).unwrap())
            .await
            .unwrap();
        locations.push(published.location);
    }
    // Neither another recipe's release, one repack did not make, nor a draft is touched.
    github.seed_release(
        "ubuntu-live-24.04-00000000",
        "<!-- repack-recipe: ubuntu-live -->",
        false,
    );
    github.seed_release("hand-made", "notes", false);
    github.seed_release(
        "debian-live-draft",
        "<!-- repack-recipe: debian-live -->",
        true,
    );
    // Build 0 is current in the catalogue, build 1 is protected as well.
    let protection = Protection {
        locations: BTreeSet::from([locations[0].clone(), locations[1].clone()]),
        references: BTreeMap::new(),
    };
    let deleted = publisher.prune(RECIPE, &protection).await.unwrap();
    assert_eq!(deleted, vec![locations[2].clone()]);
    let mut tags: Vec<String> = github.releases().into_iter().map(|r| r.tag).collect();
    tags.sort();
    let tag_of = |location: &String| location.trim_start_matches("releases/download/").to_owned();
    let mut expected = vec![
        tag_of(&locations[0]),
        tag_of(&locations[1]),
        tag_of(&locations[3]),
        "ubuntu-live-24.04-00000000".to_owned(),
        "hand-made".to_owned(),
        "debian-live-draft".to_owned(),
    ];
    expected.sort();
    assert_eq!(tags, expected);
}

#[tokio::test]
async fn bad_token_stops_with_the_api_message_and_the_token_is_never_shown() {
    let github = GitHubStandIn::start(REPO, TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), "12.10.0", "one");
    let mut config = config(&github);
    config.credentials = Token::new("wrong-token-value").into();
    assert!(!format!("{config:?}").contains("wrong-token-value"));
    let publisher = GitHubPublisher::new(config).unwrap();
    assert!(!format!("{publisher:?}").contains("wrong-token-value"));
    let error = publisher
        .publish(StagedRelease::open(dir.path()).unwrap())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "publish-github-refused");
    let text = format!("{error} {error:?}");
    assert!(
        text.contains("401") && text.contains("Bad credentials"),
        "{text}"
    );
    assert!(!text.contains("wrong-token-value"), "{text}");
    assert_eq!(github.requests().len(), 1, "a 401 is not retried");
    assert!(github.releases().is_empty());
}

#[tokio::test]
async fn a_github_app_publishes_with_a_minted_installation_token() {
    use rsa::pkcs1::EncodeRsaPrivateKey as _;
    use rsa::pkcs8::EncodePublicKey as _;
    use rsa::rand_core::SeedableRng as _;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
    let key = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
    let private_pem = key.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).unwrap();
    let public_pem = key
        .to_public_key()
        .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
        .unwrap();
    let github = GitHubStandIn::start(REPO, TOKEN).await;
    github.enable_app(4242, 99, &public_pem);
    let app = repack_publish::AppCredentials::from_pem(4242, 99, &private_pem).unwrap();
    assert!(!format!("{app:?}").contains("BEGIN"));
    let mut config = config(&github);
    config.credentials = repack_publish::Credentials::App(app);
    let dir = tempfile::tempdir().unwrap();
    let manifest = build(dir.path(), "12.10.0", "one");
    GitHubPublisher::new(config)
        .unwrap()
        .publish(StagedRelease::open(dir.path()).unwrap())
        .await
        .unwrap();
    assert_published(&github, dir.path(), &manifest);
    assert_eq!(
        github.minted_tokens(),
        1,
        "one installation token, cached for the run"
    );
    assert!(github.requests().iter().all(|r| r.authorized));

    // A key the app does not have is refused by the mint endpoint, with its message.
    let other = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
    let other_pem = other.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).unwrap();
    let mut config = self::config(&github);
    config.credentials = repack_publish::Credentials::App(
        repack_publish::AppCredentials::from_pem(4242, 99, &other_pem).unwrap(),
    );
    let error = GitHubPublisher::new(config)
        .unwrap()
        .publish(StagedRelease::open(dir.path()).unwrap())
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("access_tokens") && text.contains("Bad credentials"),
        "{text}"
    );
}

#[tokio::test]
async fn releases_are_found_across_pages() {
    let github = GitHubStandIn::start(REPO, TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = build(dir.path(), "12.10.0", "one");
    publisher(&github)
        .publish(StagedRelease::open(dir.path()).unwrap())
        .await
        .unwrap();
    // 150 newer releases push it to the second page of 100.
    for index in 0..150 {
        github.seed_release(&format!("other-{index}"), "", false);
    }
    github.clear_requests();
    let again = publisher(&github)
        .publish(StagedRelease::open(dir.path()).unwrap())
        .await
        .unwrap();
    assert!(!again.newly_published);
    let pages: Vec<Option<String>> = github.requests().iter().map(|r| r.query.clone()).collect();
    assert_eq!(pages.len(), 2, "{pages:?}");
    assert!(pages[1].as_deref().unwrap().contains("page=2"));
    assert_published(&github, dir.path(), &manifest);
}

/// The rootfs parts of `manifest` as candidates at `location`.
fn rootfs_parts(manifest: &Manifest, location: &str) -> Vec<PublishedPart> {
    manifest
        .files_with_role(FileRole::Rootfs)
        .flat_map(|file| &file.parts)
        .map(|part| PublishedPart {
            location: location.to_owned(),
            part: part.clone(),
        })
        .collect()
}

/// A build that stores only its kernel and initrd and points at `earlier`'s root-image parts
/// by URL (as the assembly lays out a build whose parts were published before).
fn build_reusing(dir: &Path, version: &str, seed: &str, earlier: &Manifest, web: &str) -> Manifest {
    let mut manifest = build(dir, version, seed);
    let tag = release_tag(earlier);
    for file in manifest
        .files
        .iter_mut()
        .filter(|f| f.role == FileRole::Rootfs)
    {
        *file = earlier.file(FileRole::Rootfs).unwrap().clone();
        for part in &mut file.parts {
            std::fs::remove_file(dir.join(&part.name)).unwrap();
            part.url = Some(format!("{web}/releases/download/{tag}/{}", part.name));
        }
    }
    repack_assemble::write_manifest(dir, &manifest).unwrap();
    manifest
}

#[tokio::test]
async fn only_parts_a_published_release_holds_unchanged_count_as_published() {
    let github = GitHubStandIn::start(REPO, TOKEN).await;
    let publisher = publisher(&github);
    let dir = tempfile::tempdir().unwrap();
    let manifest = build(dir.path(), "12.10.0", "one");
    let location = publisher
        .publish(StagedRelease::open(dir.path()).unwrap())
        .await
        .unwrap()
        .location;
    let held = rootfs_parts(&manifest, &location);
    let mut changed = held[1].clone();
    changed.part.sha256 = Sha256Digest::of(b"other bytes");
    let mut longer = held[1].clone();
    longer.part.size += 1;
    let mut elsewhere = held[0].clone();
    elsewhere.location = "releases/download/debian-live-no-such-tag".to_owned();
    let mut not_ours = held[0].clone();
    not_ours.location = format!("{}/{}", manifest.recipe, manifest.tag);
    // A draft's asset and a half-uploaded asset are served to nobody.
    let draft = github.seed_release(
        "debian-live-draft-1",
        "<!-- repack-recipe: debian-live -->",
        true,
    );
    github.seed_asset(
        draft,
        "filesystem.squashfs",
        b"draft bytes",
        AssetState::Uploaded,
    );
    let half = github.seed_release(
        "debian-live-half-1",
        "<!-- repack-recipe: debian-live -->",
        false,
    );
    github.seed_asset(half, "filesystem.squashfs", b"half", AssetState::Starter);
    let seeded = |tag: &str, bytes: &[u8]| PublishedPart {
        location: format!("releases/download/{tag}"),
        part: ManifestPart {
            name: "filesystem.squashfs".to_owned(),
            size: bytes.len() as u64,
            sha256: Sha256Digest::of(bytes),
            url: None,
        },
    };
    let candidates = vec![
        held[0].clone(),
        held[1].clone(),
        changed,
        longer,
        elsewhere,
        not_ours,
        seeded("debian-live-draft-1", b"draft bytes"),
        seeded("debian-live-half-1", b"half"),
    ];
    github.clear_requests();
    let answers = publisher.still_published(&candidates).await.unwrap();
    assert_eq!(
        answers,
        [true, true, false, false, false, false, false, false]
    );
    // Only reads: the check never changes anything.
    let requests = github.requests();
    assert!(!requests.is_empty());
    assert!(
        requests.iter().all(|request| !request.is_write()),
        "{requests:#?}"
    );
}

#[tokio::test]
async fn a_build_reusing_parts_uploads_none_of_them_and_retention_keeps_their_release() {
    let github = GitHubStandIn::start(REPO, TOKEN).await;
    let web = "https://github.example/acme/netboot";
    let mut config = config(&github);
    config.keep = Some(1);
    let publisher = GitHubPublisher::new(config).unwrap();
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();

    let first = build(dirs[0].path(), "12.10.0", "first");
    let first_at = publisher
        .publish(StagedRelease::open(dirs[0].path()).unwrap())
        .await
        .unwrap()
        .location;
    github.clear_requests();
    let second = build_reusing(dirs[1].path(), "12.10.0", "second", &first, web);
    let second_at = publisher
        .publish(StagedRelease::open(dirs[1].path()).unwrap())
        .await
        .unwrap()
        .location;
    // Kernel, initrd and the two documents only: the root image's bytes went up once.
    let release = assert_published(&github, dirs[1].path(), &second);
    let mut names: Vec<&str> = release.assets.iter().map(|a| a.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["SHA256SUMS", "initrd", "manifest.json", "vmlinuz"]);
    let uploads: Vec<String> = github
        .requests()
        .into_iter()
        .filter(|request| request.port == Port::Uploads && request.method == "POST")
        .filter_map(|request| request.query)
        .collect();
    assert_eq!(uploads.len(), 4, "{uploads:#?}");
    assert!(
        uploads.iter().all(|query| !query.contains("squashfs")),
        "{uploads:#?}"
    );
    let published: repack_core::Manifest = serde_json::from_slice(
        release
            .asset("manifest.json")
            .unwrap()
            .content
            .as_deref()
            .unwrap(),
    )
    .unwrap();
    // The release's description says where the parts it does not hold are.
    for part in &published.file(FileRole::Rootfs).unwrap().parts {
        let url = part.url.as_deref().unwrap();
        assert!(release.body.contains(url), "{}", release.body);
    }
    let urls: Vec<&str> = published.borrowed_urls().collect();
    let first_tag = release_tag(&first);
    assert_eq!(
        urls,
        [
            format!("{web}/releases/download/{first_tag}/filesystem.squashfs"),
            format!("{web}/releases/download/{first_tag}/filesystem.squashfs.part2"),
        ]
    );

    // The second build is current and points into the first: with keep = 1 both stay.
    let references = BTreeMap::from([(second_at.clone(), BTreeSet::from([first_at.clone()]))]);
    let protection = Protection {
        locations: BTreeSet::from([second_at.clone()]),
        references: references.clone(),
    };
    assert!(
        publisher
            .prune(RECIPE, &protection)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(github.releases().len(), 2);
    assert_eq!(
        publisher
            .still_published(&rootfs_parts(&first, &first_at))
            .await
            .unwrap(),
        [true, true]
    );

    // A third build stores its own root image and becomes current: nothing kept points
    // into the first any more, so the second and the first both go.
    build(dirs[2].path(), "12.11.0", "third");
    let third_at = publisher
        .publish(StagedRelease::open(dirs[2].path()).unwrap())
        .await
        .unwrap()
        .location;
    let protection = Protection {
        locations: BTreeSet::from([third_at.clone()]),
        references,
    };
    let mut deleted = publisher.prune(RECIPE, &protection).await.unwrap();
    deleted.sort();
    let mut expected = vec![first_at.clone(), second_at];
    expected.sort();
    assert_eq!(deleted, expected);
    let tags: Vec<String> = github.releases().into_iter().map(|r| r.tag).collect();
    assert_eq!(
        tags,
        [third_at.trim_start_matches("releases/download/").to_owned()]
    );
    assert_eq!(
        publisher
            .still_published(&rootfs_parts(&first, &first_at))
            .await
            .unwrap(),
        [false, false]
    );
}
