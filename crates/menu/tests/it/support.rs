//! Manifests and entries for the tests.

use repack_core::{
    Arch, BootFamilyKind, BuildKey, FORMAT_VERSION, FileRole, Manifest, ManifestFile, ManifestPart,
    Sha256Digest, SourceIso,
};
use repack_menu::{MenuEntry, MenuOptions};

pub const BASE_URL: &str = "http://boot.example/repack";

fn part(name: &str, size: u64) -> ManifestPart {
    ManifestPart {
        name: name.to_owned(),
        size,
        sha256: Sha256Digest::of(name.as_bytes()),
        url: None,
    }
}

pub fn file(name: &str, role: FileRole, parts: &[&str]) -> ManifestFile {
    ManifestFile {
        name: name.to_owned(),
        role,
        size: 1000 * parts.len() as u64,
        sha256: Some(Sha256Digest::of(name.as_bytes())),
        parts: parts.iter().map(|p| part(p, 1000)).collect(),
    }
}

/// A live-boot manifest with a rootfs split in two parts.
pub fn manifest(recipe: &str, arch: Arch, version: &str) -> Manifest {
    let iso = Sha256Digest::of(format!("{recipe} {arch} {version}").as_bytes());
    let recipe_hash = Sha256Digest::of(recipe.as_bytes());
    let key = BuildKey::new(iso, recipe_hash);
    Manifest {
        format_version: FORMAT_VERSION,
        recipe: recipe.to_owned(),
        name: "Debian Live (standard)".to_owned(),
        os: "debian".to_owned(),
        recipe_hash,
        build_key: key.id(),
        version: version.to_owned(),
        arch,
        // Each arch's build has its own ISO, so its own key and tag: a renderer that mixed up
        // the arches would show in the snapshots.
        tag: key.tag(version),
        boot_family: BootFamilyKind::LiveBoot,
        cmdline: "boot=live components fetch={base}/filesystem.squashfs".to_owned(),
        ram_mib: 3072,
        source: SourceIso {
            url: "https://cdimage.example/live.iso".to_owned(),
            sha256: iso,
            size: 1 << 31,
        },
        files: vec![
            file("vmlinuz", FileRole::Kernel, &["vmlinuz"]),
            file("initrd", FileRole::Initrd, &["initrd"]),
            file(
                "filesystem.squashfs",
                FileRole::Rootfs,
                &["filesystem.squashfs", "filesystem.squashfs.part2"],
            ),
        ],
        repack_version: "0.1.0".to_owned(),
    }
}

pub fn entry(recipe: &str, name: &str, os: &str, arch: Arch, version: &str) -> MenuEntry {
    let mut manifest = manifest(recipe, arch, version);
    manifest.name = name.to_owned();
    manifest.os = os.to_owned();
    let path = format!("{recipe}/{}", manifest.tag);
    MenuEntry::from_manifest(&manifest, &path).expect("valid entry")
}

/// Debian Live on x86_64 and arm64.
pub fn two_builds() -> Vec<MenuEntry> {
    vec![
        entry(
            "debian-live",
            "Debian Live (standard)",
            "debian",
            Arch::Arm64,
            "12.8.0",
        ),
        entry(
            "debian-live",
            "Debian Live (standard)",
            "debian",
            Arch::X86_64,
            "12.8.0",
        ),
    ]
}

pub fn options() -> MenuOptions {
    MenuOptions::new(BASE_URL).expect("valid options")
}
