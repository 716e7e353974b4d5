use crate::support::{entry, manifest, two_builds};
use repack_core::{Arch, FileRole};
use repack_menu::{MenuEntry, render_endpoints_yml};

#[test]
fn endpoints_snapshot() {
    let mut entries = two_builds();
    entries.push(entry(
        "ubuntu-live",
        "Ubuntu",
        "ubuntu",
        Arch::X86_64,
        "24.04",
    ));
    let yaml = render_endpoints_yml(&entries).unwrap();
    insta::assert_snapshot!("endpoints", yaml);
    // Versions that look like numbers stay strings.
    assert!(!yaml.contains("version: 24.04\n"), "{yaml}");
}

#[test]
fn empty_endpoints() {
    let yaml = render_endpoints_yml(&[]).unwrap();
    assert!(yaml.contains("endpoints: {}"), "{yaml}");
}

#[test]
fn files_lists_are_exactly_the_release_files() {
    // A newer release dropped the second part: its list must not keep it.
    let mut m = manifest("debian-live", Arch::X86_64, "12.9.0");
    m.files[2] = crate::support::file(
        "filesystem.squashfs",
        FileRole::Rootfs,
        &["filesystem.squashfs"],
    );
    let entry = MenuEntry::from_manifest(&m, "debian-live/12.9.0-1a2b3c4d").unwrap();
    let yaml = render_endpoints_yml(&[entry]).unwrap();
    assert!(!yaml.contains("part2"), "{yaml}");
    assert!(!yaml.contains("<<"), "no YAML merge keys: {yaml}");
    for name in ["vmlinuz", "initrd", "filesystem.squashfs"] {
        assert!(yaml.contains(&format!("- {name}\n")), "{yaml}");
    }
}
