//! Reuse across releases through `repack run`: a rebuild whose root image is byte-identical
//! to a published one (only the recipe's kernel arguments changed) stores none of its parts
//! again. Its manifest and the rootfs list baked into its initrd name the published parts by
//! full URL under `public_url`; without reuse every release stores its own. On the GitHub
//! stand-in, the rebuild uploads no root-image asset and retention keeps the release it
//! points into for as long as a kept release does.

use repack_core::{Arch, FileRole, Manifest};
use repack_e2e::{Env, TEST_PART_SIZE, initrd_file};
use repack_testkit::fixtures::{debian_live, sha256_file};
use repack_testkit::github::{AssetState, GitHubStandIn};
use repack_testkit::upstream::Served;
use std::path::Path;

/// `public_url` in the e2e configuration.
const PUBLIC_URL: &str = "http://10.0.2.100";

fn read_manifest(dir: &Path) -> Manifest {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

fn listed(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Publishes debian-live, then again with one more kernel argument; returns the two
/// releases' directories (relative locations) in order.
async fn publish_twice(env: &Env, vars: &[(&str, &str)]) -> (String, String) {
    let fixture = debian_live();
    env.serve_release(
        "12.10.0",
        Served::file(&fixture.iso),
        &sha256_file(&fixture.iso),
    );
    env.repack_with_env(&["run", "debian-live"], vars)
        .await
        .assert_success();
    let catalog = env.catalog().await;
    let first = catalog
        .current("debian-live", Arch::X86_64)
        .await
        .unwrap()
        .unwrap();
    env.with_recipe_override(
        "debian-live",
        "kernel_args = []",
        "kernel_args = [\"quiet\"]",
    );
    let run = env.repack_with_env(&["run", "debian-live"], vars).await;
    run.assert_success();
    let second = catalog
        .current("debian-live", Arch::X86_64)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(second.tag, first.tag, "a new recipe hash is a new build");
    (first.location, second.location)
}

#[tokio::test]
async fn a_rebuild_with_new_kernel_arguments_points_at_the_published_root_image() {
    let env = Env::new(1).await;
    let (first_at, second_at) = publish_twice(&env, &[("REPACK_REUSE_PARTS", "true")]).await;
    let first_dir = env.output_dir().join(&first_at);
    let second_dir = env.output_dir().join(&second_at);
    let first = read_manifest(&first_dir);
    let second = read_manifest(&second_dir);

    // The second release stores its kernel and patched initrd, nothing of the root image.
    assert_eq!(
        listed(&second_dir),
        ["SHA256SUMS", "initrd", "manifest.json", "vmlinuz"]
    );
    let sums = std::fs::read_to_string(second_dir.join("SHA256SUMS")).unwrap();
    assert!(!sums.contains("squashfs"), "{sums}");
    assert!(second.cmdline.contains("quiet"), "{}", second.cmdline);

    // Its root image is the first release's parts, by content and by URL.
    let old = first.file(FileRole::Rootfs).unwrap();
    let new = second.file(FileRole::Rootfs).unwrap();
    assert!(old.parts.len() > 1, "the fixture's root image is split");
    assert_eq!(new.size, old.size);
    assert_eq!(new.parts.len(), old.parts.len());
    for (new_part, old_part) in new.parts.iter().zip(&old.parts) {
        assert_eq!(
            (&new_part.name, new_part.size, new_part.sha256),
            (&old_part.name, old_part.size, old_part.sha256)
        );
        assert!(old_part.url.is_none());
        let url = format!("{PUBLIC_URL}/{first_at}/{}", old_part.name);
        assert_eq!(new_part.url.as_deref(), Some(url.as_str()));
        // What that URL serves (the output directory, as public_url maps it) is the part.
        let served = first_dir.join(&old_part.name);
        assert_eq!(
            sha256_file(&served),
            new_part.sha256.to_hex(),
            "{}",
            served.display()
        );
    }

    // The hook's list inside the new initrd names the same URLs, with sizes and digests.
    let list = String::from_utf8(initrd_file(
        &second_dir.join("initrd"),
        "etc/repack/rootfs.list",
    ))
    .unwrap();
    let expected: String = new
        .parts
        .iter()
        .map(|part| {
            format!(
                "{} {} {} {}\n",
                new.name,
                part.url.as_deref().unwrap(),
                part.size,
                part.sha256
            )
        })
        .collect();
    assert_eq!(list, expected);

    // The first release is untouched and still self-contained.
    assert!(first.borrowed_urls().next().is_none());
    for name in first.stored_names() {
        assert!(first_dir.join(name).is_file(), "{name}");
    }
}

#[tokio::test]
async fn without_reuse_every_release_stores_its_own_root_image() {
    // The directory publisher's default: release directories stay self-contained.
    let env = Env::new(1).await;
    let (_, second_at) = publish_twice(&env, &[]).await;
    let second = read_manifest(&env.output_dir().join(&second_at));
    assert!(second.borrowed_urls().next().is_none());
    for name in second.stored_names() {
        assert!(
            env.output_dir().join(&second_at).join(name).is_file(),
            "{name}"
        );
    }
    assert!(
        second
            .stored_names()
            .any(|name| name == "filesystem.squashfs.part2")
    );
}

const REPO: &str = "acme/netboot";
const TOKEN: &str = "e2e-reuse-token-3c81";

#[tokio::test]
async fn on_github_a_rebuild_uploads_no_root_image_and_retention_keeps_what_it_points_into() {
    let github = GitHubStandIn::start(REPO, TOKEN).await;
    let env = Env::new(1).await;
    env.append_config(&format!(
        "\n[github]\nrepo = \"{REPO}\"\napi_url = \"{}\"\nuploads_url = \"{}\"\nkeep = 1\n",
        github.api_url(),
        github.uploads_url()
    ));
    // Reuse is on by default for GitHub.
    let vars = [("REPACK_PUBLISHER", "github"), ("GITHUB_TOKEN", TOKEN)];
    let (first_at, second_at) = publish_twice(&env, &vars).await;
    let tag = |location: &str| {
        location
            .strip_prefix("releases/download/")
            .unwrap_or_else(|| panic!("not a GitHub location: {location}"))
            .to_owned()
    };
    let (first_tag, second_tag) = (tag(&first_at), tag(&second_at));

    // Both stay: the second is current and points into the first, although keep = 1.
    let releases = github.releases();
    let mut tags: Vec<&str> = releases.iter().map(|r| r.tag.as_str()).collect();
    tags.sort();
    let mut expected = vec![first_tag.as_str(), second_tag.as_str()];
    expected.sort();
    assert_eq!(tags, expected);
    let first = releases.iter().find(|r| r.tag == first_tag).unwrap();
    let second = releases.iter().find(|r| r.tag == second_tag).unwrap();
    let mut names: Vec<&str> = second.assets.iter().map(|a| a.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["SHA256SUMS", "initrd", "manifest.json", "vmlinuz"]);
    let manifest: Manifest = serde_json::from_slice(
        second
            .asset("manifest.json")
            .unwrap()
            .content
            .as_deref()
            .unwrap(),
    )
    .unwrap();
    let rootfs = manifest.file(FileRole::Rootfs).unwrap();
    assert!(rootfs.parts.len() > 1);
    for part in &rootfs.parts {
        assert_eq!(
            part.url.as_deref(),
            Some(format!("{PUBLIC_URL}/releases/download/{first_tag}/{}", part.name).as_str())
        );
        // The first release holds that very part, uploaded whole.
        let held = first.asset(&part.name).unwrap();
        assert_eq!(held.state, AssetState::Uploaded);
        assert_eq!(
            (held.size, held.sha256.as_str()),
            (part.size, part.sha256.to_hex().as_str())
        );
    }

    // At half the part size the cuts differ, except the last: 128 MiB in, the same tail of
    // the image either way, byte for byte. That one part is pointed at; the rest is stored.
    // Then the second release (beyond keep = 1, pointed at by nothing kept) goes, and the
    // first stays because the current build points into it.
    let half = (TEST_PART_SIZE / 2).to_string();
    let vars = [
        ("REPACK_PUBLISHER", "github"),
        ("GITHUB_TOKEN", TOKEN),
        ("REPACK_PART_SIZE", half.as_str()),
    ];
    let run = env.repack_with_env(&["run", "debian-live"], &vars).await;
    run.assert_success();
    let third = env
        .catalog()
        .await
        .current("debian-live", Arch::X86_64)
        .await
        .unwrap()
        .unwrap();
    let third_tag = tag(&third.location);
    let rootfs = third.manifest.file(FileRole::Rootfs).unwrap();
    let names: Vec<&str> = rootfs.parts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "filesystem.squashfs",
            "filesystem.squashfs.part2",
            "filesystem.squashfs.part3",
            "filesystem.squashfs.part4",
            "filesystem.squashfs.part5"
        ]
    );
    let borrowed: Vec<&str> = third.manifest.borrowed_urls().collect();
    assert_eq!(
        borrowed,
        [format!(
            "{PUBLIC_URL}/releases/download/{first_tag}/filesystem.squashfs.part3"
        )]
    );
    let releases = github.releases();
    let mut tags: Vec<&str> = releases.iter().map(|r| r.tag.as_str()).collect();
    tags.sort();
    let mut expected = vec![first_tag.as_str(), third_tag.as_str()];
    expected.sort();
    assert_eq!(tags, expected, "{}", run.stderr);
    let stored: Vec<&str> = releases
        .iter()
        .find(|r| r.tag == third_tag)
        .unwrap()
        .assets
        .iter()
        .map(|asset| asset.name.as_str())
        .filter(|name| name.starts_with("filesystem.squashfs"))
        .collect();
    assert_eq!(stored.len(), 4, "{stored:?}");
    assert!(!stored.contains(&"filesystem.squashfs.part5"));
}
