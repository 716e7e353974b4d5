//! Tests of the directory publisher: complete-or-nothing, idempotent republishing, staging
//! cleanup, atomic top-level files.

use repack_assemble::AssembleError;
use repack_core::{
    Arch, BootFamilyKind, FileRole, Manifest, ManifestFile, ManifestPart, Sha256Digest, SourceIso,
};
use repack_publish::{
    DirectoryPublisher, PublishError, PublishedPart, Publisher, StagedRelease, Staging,
};

fn manifest_for(build: &[u8]) -> Manifest {
    let part = |name: &str, data: &[u8]| ManifestPart {
        name: name.to_owned(),
        size: data.len() as u64,
        sha256: Sha256Digest::of(data),
        url: None,
    };
    Manifest {
        format_version: 1,
        recipe: "debian-live".to_owned(),
        name: "Test Live".to_owned(),
        os: "debian".to_owned(),
        recipe_hash: Sha256Digest::of(b"recipe"),
        build_key: Sha256Digest::of(build),
        version: "12.10.0".to_owned(),
        arch: Arch::X86_64,
        tag: "12.10.0-abcdef01".to_owned(),
        boot_family: BootFamilyKind::LiveBoot,
        cmdline: "boot=live fetch={base}/filesystem.squashfs".to_owned(),
        ram_mib: 1024,
        source: SourceIso {
            url: "https://upstream.invalid/x.iso".to_owned(),
            sha256: Sha256Digest::of(b"iso"),
            size: 10,
        },
        files: vec![
            ManifestFile {
                name: "vmlinuz".to_owned(),
                role: FileRole::Kernel,
                size: 6,
                sha256: Some(Sha256Digest::of(b"kernel")),
                parts: vec![part("vmlinuz", b"kernel")],
            },
            ManifestFile {
                name: "filesystem.squashfs".to_owned(),
                role: FileRole::Rootfs,
                size: 6,
                sha256: Some(Sha256Digest::of(b"rootfs")),
                parts: vec![
                    part("filesystem.squashfs", b"roo"),
                    part("filesystem.squashfs.part2", b"tfs"),
                ],
            },
        ],
        repack_version: "test".to_owned(),
    }
}

/// A filled staging directory under the publisher's root, not yet checked.
fn fill(publisher: &DirectoryPublisher, manifest: &Manifest) -> Staging {
    let staging =
        Staging::create(&publisher.staging_parent(), &manifest.recipe, &manifest.tag).unwrap();
    let dir = staging.path();
    std::fs::write(dir.join("vmlinuz"), b"kernel").unwrap();
    std::fs::write(dir.join("filesystem.squashfs"), b"roo").unwrap();
    std::fs::write(dir.join("filesystem.squashfs.part2"), b"tfs").unwrap();
    repack_assemble::write_manifest(dir, manifest).unwrap();
    staging
}

fn stage(publisher: &DirectoryPublisher, manifest: &Manifest) -> StagedRelease {
    StagedRelease::new(fill(publisher, manifest), manifest.clone()).unwrap()
}

fn staging_leftovers(root: &std::path::Path) -> usize {
    std::fs::read_dir(root.join(".staging"))
        .map(|entries| entries.count())
        .unwrap_or(0)
}

#[tokio::test]
async fn complete_release_becomes_visible_in_one_step() {
    let root = tempfile::tempdir().unwrap();
    let publisher = DirectoryPublisher::new(root.path());
    let manifest = manifest_for(b"one");
    let published = publisher
        .publish(stage(&publisher, &manifest))
        .await
        .unwrap();
    assert_eq!(published.location, "debian-live/12.10.0-abcdef01");
    assert!(published.newly_published);
    let dir = root.path().join(&published.location);
    assert_eq!(
        std::fs::read(dir.join("filesystem.squashfs.part2")).unwrap(),
        b"tfs"
    );
    assert_eq!(repack_assemble::read_manifest(&dir).unwrap(), manifest);
    assert_eq!(staging_leftovers(root.path()), 0);
}

#[tokio::test]
async fn missing_part_publishes_nothing_and_cleans_up() {
    let root = tempfile::tempdir().unwrap();
    let publisher = DirectoryPublisher::new(root.path());
    let manifest = manifest_for(b"one");
    let staging = fill(&publisher, &manifest);
    std::fs::remove_file(staging.path().join("filesystem.squashfs.part2")).unwrap();
    let error = StagedRelease::new(staging, manifest).unwrap_err();
    assert!(matches!(error, AssembleError::Incomplete { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains("filesystem.squashfs.part2 is missing")
    );
    assert!(!root.path().join("debian-live").exists());
    assert_eq!(staging_leftovers(root.path()), 0);
}

#[tokio::test]
async fn wrong_size_or_stray_file_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let publisher = DirectoryPublisher::new(root.path());
    let manifest = manifest_for(b"one");
    let staging = fill(&publisher, &manifest);
    std::fs::write(staging.path().join("vmlinuz"), b"kernel-but-longer").unwrap();
    let error = StagedRelease::new(staging, manifest.clone()).unwrap_err();
    assert!(
        error.to_string().contains("vmlinuz has 17 bytes"),
        "{error}"
    );
    let staging = fill(&publisher, &manifest);
    std::fs::write(staging.path().join("stray"), b"?").unwrap();
    let error = StagedRelease::new(staging, manifest).unwrap_err();
    assert!(error.to_string().contains("stray is not listed"), "{error}");
    assert!(!root.path().join("debian-live").exists());
    assert_eq!(staging_leftovers(root.path()), 0);
}

#[tokio::test]
async fn same_build_twice_is_a_no_op_and_a_different_build_under_the_tag_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let publisher = DirectoryPublisher::new(root.path());
    let manifest = manifest_for(b"one");
    publisher
        .publish(stage(&publisher, &manifest))
        .await
        .unwrap();
    let again = publisher
        .publish(stage(&publisher, &manifest))
        .await
        .unwrap();
    assert!(!again.newly_published);
    assert_eq!(staging_leftovers(root.path()), 0);
    let other = manifest_for(b"two");
    let error = publisher
        .publish(stage(&publisher, &other))
        .await
        .unwrap_err();
    assert!(matches!(error, PublishError::Conflict { .. }), "{error}");
}

#[tokio::test]
async fn dropped_staging_is_deleted() {
    let root = tempfile::tempdir().unwrap();
    let publisher = DirectoryPublisher::new(root.path());
    let staging = stage(&publisher, &manifest_for(b"one"));
    let path = staging.dir().to_owned();
    drop(staging);
    assert!(!path.exists());
}

#[tokio::test]
async fn an_adopted_release_directory_is_copied_and_left_in_place() {
    let built = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let publisher = DirectoryPublisher::new(root.path());
    let manifest = manifest_for(b"one");
    let staging = fill(&publisher, &manifest);
    for name in [
        "vmlinuz",
        "filesystem.squashfs",
        "filesystem.squashfs.part2",
        "manifest.json",
        "SHA256SUMS",
    ] {
        std::fs::copy(staging.path().join(name), built.path().join(name)).unwrap();
    }
    drop(staging);
    let release = StagedRelease::open(built.path()).unwrap();
    let published = publisher.publish(release).await.unwrap();
    assert!(published.newly_published);
    let dir = root.path().join(&published.location);
    assert_eq!(std::fs::read(dir.join("vmlinuz")).unwrap(), b"kernel");
    assert_eq!(
        std::fs::read(built.path().join("vmlinuz")).unwrap(),
        b"kernel"
    );
    assert_eq!(staging_leftovers(root.path()), 0);
}

#[tokio::test]
async fn top_level_files_are_replaced_whole() {
    let root = tempfile::tempdir().unwrap();
    let publisher = DirectoryPublisher::new(root.path());
    publisher
        .publish_file("menu.ipxe", b"#!ipxe\nold\n".to_vec())
        .await
        .unwrap();
    publisher
        .publish_file("menu.ipxe", b"#!ipxe\nnew\n".to_vec())
        .await
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(root.path().join("menu.ipxe")).unwrap(),
        "#!ipxe\nnew\n"
    );
    assert!(!root.path().join(".menu.ipxe.tmp").exists());
    // The same contents again leave the file as it is (a rerun after a crash renders the
    // menu again; an unchanged menu keeps its modification time).
    let modified = || {
        std::fs::metadata(root.path().join("menu.ipxe"))
            .unwrap()
            .modified()
            .unwrap()
    };
    let before = modified();
    std::thread::sleep(std::time::Duration::from_millis(20));
    publisher
        .publish_file("menu.ipxe", b"#!ipxe\nnew\n".to_vec())
        .await
        .unwrap();
    assert_eq!(modified(), before);
    assert!(publisher.publish_file("../escape", vec![]).await.is_err());
}

/// A killed process drops nothing: its staging directory stays, unlocked. The next staging
/// directory made under the same parent removes it, and leaves alone one still in use
/// (locked by its owner).
#[test]
fn staging_of_a_killed_attempt_is_swept_and_one_in_use_is_kept() {
    let root = tempfile::tempdir().unwrap();
    let publisher = DirectoryPublisher::new(root.path());
    let in_use = fill(&publisher, &manifest_for(b"one"));
    let abandoned = root
        .path()
        .join(".staging/debian-live-12.10.0-abcdef01-1-2");
    std::fs::create_dir_all(&abandoned).unwrap();
    std::fs::write(abandoned.join("vmlinuz"), b"half a kern").unwrap();

    let next = Staging::create(
        &publisher.staging_parent(),
        "debian-live",
        "12.10.0-abcdef01",
    )
    .unwrap();
    assert!(
        !abandoned.exists(),
        "the abandoned staging directory was kept"
    );
    assert!(
        in_use.path().join("vmlinuz").is_file(),
        "a staging directory in use was swept"
    );
    assert_eq!(staging_leftovers(root.path()), 2);
    drop((in_use, next));
    assert_eq!(staging_leftovers(root.path()), 0);
}

#[tokio::test]
async fn a_part_counts_as_published_only_where_its_release_stores_it_unchanged() {
    let root = tempfile::tempdir().unwrap();
    let publisher = DirectoryPublisher::new(root.path());
    let manifest = manifest_for(b"one");
    let location = publisher
        .publish(stage(&publisher, &manifest))
        .await
        .unwrap()
        .location;
    let at = |location: &str, part: &ManifestPart| PublishedPart {
        location: location.to_owned(),
        part: part.clone(),
    };
    let parts = &manifest.file(FileRole::Rootfs).unwrap().parts;
    let mut other_bytes = parts[1].clone();
    other_bytes.sha256 = Sha256Digest::of(b"xyz");
    let mut other_name = parts[1].clone();
    other_name.name = "filesystem.squashfs.part3".to_owned();
    let candidates = vec![
        at(&location, &parts[0]),
        at(&location, &parts[1]),
        at(&location, &other_bytes),
        at(&location, &other_name),
        at("debian-live/12.9.0-00000000", &parts[0]),
        at("../debian-live/12.10.0-abcdef01", &parts[0]),
    ];
    assert_eq!(
        publisher.still_published(&candidates).await.unwrap(),
        [true, true, false, false, false, false]
    );
    // A file that lost bytes since (a damaged mirror) no longer counts.
    std::fs::write(
        root.path().join(&location).join("filesystem.squashfs"),
        b"ro",
    )
    .unwrap();
    assert_eq!(
        publisher.still_published(&candidates[..2]).await.unwrap(),
        [false, true]
    );
}
