use repack_boot::{BaseInitrd, BootError, BootInputs, family, render_rootfs_list};
use repack_core::{BootFamilyKind, FileRole, ManifestFile, ManifestPart, Sha256Digest};

struct FakeInitrd(Vec<&'static str>);

impl BaseInitrd for FakeInitrd {
    fn read_file(&self, path: &str) -> Result<Option<Vec<u8>>, BootError> {
        Ok(self.0.contains(&path).then(Vec::new))
    }
}

fn rootfs() -> Vec<ManifestFile> {
    let part = |name: &str, size| ManifestPart {
        name: name.to_owned(),
        size,
        sha256: Sha256Digest::of(name.as_bytes()),
        url: None,
    };
    vec![ManifestFile {
        name: "filesystem.squashfs".to_owned(),
        role: FileRole::Rootfs,
        size: 3 << 30,
        sha256: Some(Sha256Digest::of(b"whole")),
        parts: vec![
            part("filesystem.squashfs", 2 << 30),
            part("filesystem.squashfs.part2", 1 << 30),
        ],
    }]
}

#[test]
fn live_boot_plan_adds_hook_and_list_and_fetches_first_image() {
    let base = FakeInitrd(vec![
        "usr/lib/live/boot/9990-mount-http.sh",
        "usr/bin/wget",
        "usr/bin/sha256sum",
    ]);
    let rootfs = rootfs();
    let extra = vec!["components".to_owned()];
    let plan = family(BootFamilyKind::LiveBoot)
        .unwrap()
        .plan(&BootInputs {
            rootfs: &rootfs,
            side_files: &[],
            initrd_size: 50 << 20,
            extra_args: &extra,
            base: &base,
        })
        .unwrap();
    assert_eq!(
        plan.cmdline,
        "boot=live fetch={base}/filesystem.squashfs ip=dhcp components"
    );
    let paths: Vec<_> = plan.overlay.iter().map(|file| file.path.as_str()).collect();
    assert_eq!(
        paths,
        ["usr/lib/live/boot/9999-repack.sh", "etc/repack/rootfs.list"]
    );
    let list = String::from_utf8(plan.overlay[1].contents.clone()).unwrap();
    assert_eq!(list.lines().count(), 2);
    assert!(list.contains("filesystem.squashfs filesystem.squashfs.part2 1073741824 "));
    // 3 GiB of images + 150 MiB of initrd + 512 MiB, rounded up (3734 MiB): each part is
    // written straight onto the end of its image, so the RAM of a part being joined is gone.
    assert_eq!(plan.ram_mib, 3840);
}

#[test]
fn live_boot_hook_goes_next_to_the_stock_components_of_older_initrds() {
    let base = FakeInitrd(vec![
        "lib/live/boot/9990-mount-http.sh",
        "bin/wget",
        "bin/sha256sum",
    ]);
    let rootfs = rootfs();
    let plan = family(BootFamilyKind::LiveBoot)
        .unwrap()
        .plan(&BootInputs {
            rootfs: &rootfs,
            side_files: &[],
            initrd_size: 1,
            extra_args: &[],
            base: &base,
        })
        .unwrap();
    assert_eq!(plan.overlay[0].path, "lib/live/boot/9999-repack.sh");
}

#[test]
fn live_boot_refuses_an_initrd_without_live_boot() {
    let base = FakeInitrd(vec![]);
    let rootfs = rootfs();
    let error = family(BootFamilyKind::LiveBoot)
        .unwrap()
        .plan(&BootInputs {
            rootfs: &rootfs,
            side_files: &[],
            initrd_size: 1,
            extra_args: &[],
            base: &base,
        })
        .unwrap_err();
    assert!(matches!(error, BootError::NotThisFamily { .. }), "{error}");
    assert!(error.to_string().contains("9990-mount-http.sh"));
}

#[test]
fn live_boot_refuses_an_initrd_that_cannot_fetch() {
    let base = FakeInitrd(vec!["lib/live/boot/9990-mount-http.sh", "bin/sha256sum"]);
    let rootfs = rootfs();
    let error = family(BootFamilyKind::LiveBoot)
        .unwrap()
        .plan(&BootInputs {
            rootfs: &rootfs,
            side_files: &[],
            initrd_size: 1,
            extra_args: &[],
            base: &base,
        })
        .unwrap_err();
    assert!(
        matches!(error, BootError::MissingTool { tool: "wget", .. }),
        "{error}"
    );
}

#[test]
fn rootfs_list_refuses_names_a_shell_would_misread() {
    let mut files = rootfs();
    files[0].parts[1].name = "x y; reboot".to_owned();
    assert!(matches!(
        render_rootfs_list(&files),
        Err(BootError::UnsafeName(_))
    ));
}

#[test]
fn rootfs_list_names_a_borrowed_part_by_its_full_url() {
    let mut files = rootfs();
    let url = "https://github.com/acme/netboot/releases/download/debian-live-12.10.0-0a1b2c3d/filesystem.squashfs.part2";
    files[0].parts[1].url = Some(url.to_owned());
    let list = render_rootfs_list(&files).unwrap();
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("filesystem.squashfs filesystem.squashfs 2147483648 "));
    assert_eq!(
        lines[1],
        format!(
            "filesystem.squashfs {url} 1073741824 {}",
            Sha256Digest::of(b"filesystem.squashfs.part2")
        )
    );
}

#[test]
fn rootfs_list_refuses_urls_a_hook_cannot_use() {
    for bad in [
        "ftp://mirror.example/filesystem.squashfs",
        "filesystem.squashfs.part2/../x",
        "https://",
        "https:///path",
        "http://host/a b",
        "http://host/$(reboot)",
        "http://host/a;reboot",
        "http://host/a\nb",
        "http://host/`x`",
    ] {
        let mut files = rootfs();
        files[0].parts[0].url = Some(bad.to_owned());
        assert!(
            matches!(render_rootfs_list(&files), Err(BootError::UnsafeUrl(_))),
            "{bad:?} accepted"
        );
    }
}

#[test]
fn every_family_has_an_implementation() {
    for kind in [
        BootFamilyKind::LiveBoot,
        BootFamilyKind::Casper,
        BootFamilyKind::Dracut,
        BootFamilyKind::Archiso,
        BootFamilyKind::Miso,
    ] {
        assert_eq!(family(kind).unwrap().kind(), kind);
    }
}
