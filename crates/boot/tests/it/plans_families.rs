//! Overlay structure of the casper, dracut, archiso and miso plans: paths, modes, that
//! nothing upstream is replaced except the family's own hook file where the notes name it
//! (archiso_pxe_http, miso_pxe_http) and casper's ORDER (kept line for line, ours added),
//! command lines, RAM, and what each family reads from or refuses in the base initrd.

use crate::support::FakeInitrd;
use repack_boot::{BootError, BootInputs, BootPlan, ROOTFS_LIST_PATH, family};
use repack_core::{BootFamilyKind, FileRole, ManifestFile, ManifestPart, Sha256Digest};

fn image(name: &str, sizes: &[u64]) -> ManifestFile {
    let parts = sizes
        .iter()
        .enumerate()
        .map(|(index, size)| ManifestPart {
            name: if index == 0 {
                name.to_owned()
            } else {
                format!("{name}.part{}", index + 1)
            },
            size: *size,
            sha256: Sha256Digest::of(name.as_bytes()),
            url: None,
        })
        .collect();
    ManifestFile {
        name: name.to_owned(),
        role: FileRole::Rootfs,
        size: sizes.iter().sum(),
        sha256: Some(Sha256Digest::of(b"whole")),
        parts,
    }
}

fn make(
    kind: BootFamilyKind,
    base: &FakeInitrd,
    rootfs: &[ManifestFile],
    extra: &[String],
) -> Result<BootPlan, BootError> {
    family(kind).unwrap().plan(&BootInputs {
        rootfs,
        side_files: &[],
        initrd_size: 100 << 20,
        extra_args: extra,
        base,
    })
}

fn paths(plan: &BootPlan) -> Vec<(&str, u32)> {
    plan.overlay
        .iter()
        .map(|file| (file.path.as_str(), file.mode))
        .collect()
}

/// Every overlay path the base already has must be one the family is allowed to replace.
fn assert_replaces_only(plan: &BootPlan, base: &FakeInitrd, allowed: &[&str]) {
    for file in &plan.overlay {
        if base.0.contains_key(&file.path) {
            assert!(
                allowed.contains(&file.path.as_str()),
                "{} replaced",
                file.path
            );
        }
    }
}

const GIB: u64 = 1 << 30;

fn casper_base() -> FakeInitrd {
    FakeInitrd::default()
        .with("scripts/casper", "#!/bin/sh\n")
        .with(
            "scripts/casper-premount/ORDER",
            "/scripts/casper-premount/10driver_updates \"$@\"\n[ -e /conf/param.conf ] && . /conf/param.conf",
        )
        .with(
            "conf/conf.d/default-layer.conf",
            "LAYERFS_PATH=minimal.standard.live.squashfs\n",
        )
        .with_busybox("usr/bin/busybox", &["sh", "wget", "sha256sum"])
}

fn ubuntu_layers() -> Vec<ManifestFile> {
    vec![
        image("minimal.squashfs", &[2 * GIB - 1, GIB]),
        image("minimal.standard.squashfs", &[GIB]),
        image("minimal.standard.live.squashfs", &[GIB / 2]),
        image("minimal.fr.squashfs", &[GIB / 4]),
        image("minimal.enhanced-secureboot.squashfs", &[GIB / 4]),
    ]
}

#[test]
fn casper_adds_a_premount_script_and_an_order_that_keeps_every_stock_line() {
    let base = casper_base();
    let plan = make(BootFamilyKind::Casper, &base, &ubuntu_layers(), &[]).unwrap();
    assert_eq!(
        paths(&plan),
        [
            ("scripts/casper-premount/99repack", 0o755),
            ("scripts/casper-premount/ORDER", 0o644),
            (ROOTFS_LIST_PATH, 0o644),
        ]
    );
    assert_replaces_only(&plan, &base, &["scripts/casper-premount/ORDER"]);
    let order = String::from_utf8(plan.overlay[1].contents.clone()).unwrap();
    assert_eq!(
        order,
        "/scripts/casper-premount/10driver_updates \"$@\"\n[ -e /conf/param.conf ] && . /conf/param.conf\n\
         /scripts/casper-premount/99repack \"$@\"\n[ -e /conf/param.conf ] && . /conf/param.conf\n"
    );
    let script = String::from_utf8(plan.overlay[0].contents.clone()).unwrap();
    assert!(script.starts_with("#!/bin/sh\n"));
    assert_eq!(plan.cmdline, "boot=casper repack.base={base}/ ip=dhcp");
    // The default layer's chain, base first; language and secure-boot layers are not fetched.
    let list = String::from_utf8(plan.overlay[2].contents.clone()).unwrap();
    let files: Vec<&str> = list
        .lines()
        .map(|line| line.split(' ').nth(1).unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "minimal.squashfs",
            "minimal.squashfs.part2",
            "minimal.standard.squashfs",
            "minimal.standard.live.squashfs"
        ]
    );
    // 4.5 GiB of layers + 300 MiB of initrd + 512 MiB, rounded up: no part is held twice.
    assert_eq!(plan.ram_mib, (4608 + 300 + 512_u64).div_ceil(256) * 256);
}

#[test]
fn casper_layerfs_path_on_the_command_line_overrides_the_initrd() {
    let base = casper_base();
    let extra = vec!["layerfs-path=minimal.fr.squashfs".to_owned()];
    let plan = make(BootFamilyKind::Casper, &base, &ubuntu_layers(), &extra).unwrap();
    let list = String::from_utf8(plan.overlay[2].contents.clone()).unwrap();
    let files: Vec<&str> = list
        .lines()
        .map(|line| line.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "minimal.squashfs",
            "minimal.squashfs",
            "minimal.fr.squashfs"
        ]
    );
    assert!(plan.cmdline.ends_with(" layerfs-path=minimal.fr.squashfs"));
}

#[test]
fn casper_refuses_a_release_missing_a_layer_of_the_default_chain() {
    let base = casper_base();
    let mut layers = ubuntu_layers();
    layers.retain(|file| file.name != "minimal.standard.squashfs");
    let error = make(BootFamilyKind::Casper, &base, &layers, &[]).unwrap_err();
    assert_eq!(error.kind(), "boot-unexpected-rootfs");
    assert!(
        error.to_string().contains("minimal.standard.squashfs"),
        "{error}"
    );
}

#[test]
fn casper_without_order_or_default_layer_lists_every_image() {
    let base = FakeInitrd::default()
        .with("scripts/casper", "")
        .with("bin/wget", "")
        .with("bin/sha256sum", "");
    let rootfs = vec![image("filesystem.squashfs", &[GIB])];
    let plan = make(BootFamilyKind::Casper, &base, &rootfs, &[]).unwrap();
    assert_eq!(
        paths(&plan),
        [
            ("scripts/casper-premount/99repack", 0o755),
            (ROOTFS_LIST_PATH, 0o644)
        ]
    );
}

#[test]
fn casper_refuses_an_initrd_whose_busybox_cannot_hash() {
    let base = FakeInitrd::default()
        .with("scripts/casper", "")
        .with_busybox("usr/bin/busybox", &["sh", "wget", "md5sum"]);
    let rootfs = vec![image("filesystem.squashfs", &[GIB])];
    let error = make(BootFamilyKind::Casper, &base, &rootfs, &[]).unwrap_err();
    assert!(matches!(error, BootError::MissingTool { .. }), "{error}");
    assert_eq!(error.kind(), "boot-missing-tool");
}

fn dracut_base(hookdir: &str, lib: &str) -> FakeInitrd {
    FakeInitrd::default()
        .with(lib, format!("#!/bin/sh\nexport hookdir={hookdir}\n"))
        .with("lib/url-lib.sh", "")
        .with("usr/sbin/livenetroot", "")
        .with("usr/sbin/dmsquash-live-root", "")
        .with(
            &format!(
                "{}/cmdline/29-parse-livenet.sh",
                hookdir.trim_start_matches('/')
            ),
            "",
        )
        .with("usr/bin/curl", "")
        .with("usr/bin/sha256sum", "")
}

#[test]
fn dracut_hooks_go_where_this_dracut_sources_them() {
    let rootfs = vec![image("squashfs.img", &[2 * GIB - 1, GIB])];
    for hookdir in ["/lib/dracut/hooks", "/var/lib/dracut/hooks"] {
        let base = dracut_base(hookdir, "lib/dracut-lib.sh");
        let plan = make(BootFamilyKind::Dracut, &base, &rootfs, &[]).unwrap();
        let relative = hookdir.trim_start_matches('/');
        assert_eq!(
            paths(&plan),
            [
                (
                    format!("{relative}/cmdline/29-repack-livenet.sh").as_str(),
                    0o755
                ),
                ("sbin/repackroot", 0o755),
                (ROOTFS_LIST_PATH, 0o644),
            ]
        );
        assert_replaces_only(&plan, &base, &[]);
        assert_eq!(
            plan.cmdline,
            "root=live:{base}/squashfs.img rd.live.image rd.live.overlay.overlayfs=1 ip=dhcp rd.neednet=1"
        );
        assert_eq!(plan.ram_mib, (3072 + 300 + 512_u64).div_ceil(256) * 256);
    }
}

#[test]
fn dracut_refuses_an_initrd_without_livenet_or_a_hash_tool() {
    let rootfs = vec![image("squashfs.img", &[GIB])];
    let mut base = dracut_base("/lib/dracut/hooks", "lib/dracut-lib.sh");
    base.0.remove("usr/sbin/livenetroot");
    let error = make(BootFamilyKind::Dracut, &base, &rootfs, &[]).unwrap_err();
    assert!(error.to_string().contains("livenet"), "{error}");

    let mut base = dracut_base("/lib/dracut/hooks", "lib/dracut-lib.sh");
    base.0.remove("usr/bin/sha256sum");
    let error = make(BootFamilyKind::Dracut, &base, &rootfs, &[]).unwrap_err();
    assert_eq!(error.kind(), "boot-missing-tool", "{error}");

    let mut base = dracut_base("/lib/dracut/hooks", "lib/dracut-lib.sh");
    base.0
        .remove("lib/dracut/hooks/cmdline/29-parse-livenet.sh");
    let error = make(BootFamilyKind::Dracut, &base, &rootfs, &[]).unwrap_err();
    assert!(error.to_string().contains("29-parse-livenet.sh"), "{error}");
}

#[test]
fn dracut_boots_exactly_one_image() {
    let base = dracut_base("/lib/dracut/hooks", "lib/dracut-lib.sh");
    let rootfs = vec![image("squashfs.img", &[GIB]), image("extra.img", &[GIB])];
    let error = make(BootFamilyKind::Dracut, &base, &rootfs, &[]).unwrap_err();
    assert_eq!(error.kind(), "boot-unexpected-rootfs");
}

/// A mkinitcpio initrd: the hook files and a `/config` naming them in HOOKS, as mkinitcpio's
/// `parse_config` writes it.
fn mkinitcpio_base(hooks: &[&str]) -> FakeInitrd {
    hooks
        .iter()
        .fold(FakeInitrd::default(), |base, hook| {
            base.with(&format!("hooks/{hook}"), "")
        })
        .with(
            "config",
            format!(
                "EARLYHOOKS=\"\"\nHOOKS=\"base udev {}\"\nLATEHOOKS=\"\"\n",
                hooks.join(" ")
            ),
        )
        .with("usr/bin/curl", "")
        .with_busybox("usr/bin/busybox", &["sh", "sha256sum"])
}

#[test]
fn archiso_replaces_only_its_http_hook_file() {
    let base = mkinitcpio_base(&["archiso", "archiso_pxe_common", "archiso_pxe_http"]);
    let rootfs = vec![image("airootfs.sfs", &[GIB])];
    let plan = make(BootFamilyKind::Archiso, &base, &rootfs, &[]).unwrap();
    assert_eq!(
        paths(&plan),
        [("hooks/archiso_pxe_http", 0o755), (ROOTFS_LIST_PATH, 0o644)]
    );
    assert_replaces_only(&plan, &base, &["hooks/archiso_pxe_http"]);
    assert_eq!(
        plan.cmdline,
        "archisobasedir=arch archiso_http_srv={base}/ ip=dhcp"
    );
    assert_eq!(plan.ram_mib, (1024 + 300 + 512_u64).div_ceil(256) * 256);

    let wrong = vec![image("filesystem.squashfs", &[GIB])];
    let error = make(BootFamilyKind::Archiso, &base, &wrong, &[]).unwrap_err();
    assert_eq!(error.kind(), "boot-unexpected-rootfs");

    let no_curl = mkinitcpio_base(&["archiso", "archiso_pxe_http"]);
    let mut no_curl = no_curl;
    no_curl.0.remove("usr/bin/curl");
    let error = make(BootFamilyKind::Archiso, &no_curl, &rootfs, &[]).unwrap_err();
    assert_eq!(error.kind(), "boot-missing-tool");
}

#[test]
fn miso_replaces_only_its_http_hook_file_and_fetches_all_images() {
    let base = mkinitcpio_base(&["miso", "miso_pxe_common", "miso_pxe_http"]);
    let rootfs = vec![
        image("rootfs.sfs", &[GIB]),
        image("desktopfs.sfs", &[2 * GIB - 1, GIB]),
        image("mhwdfs.sfs", &[GIB / 2]),
        image("livefs.sfs", &[GIB / 4]),
    ];
    let plan = make(BootFamilyKind::Miso, &base, &rootfs, &[]).unwrap();
    assert_eq!(
        paths(&plan),
        [("hooks/miso_pxe_http", 0o755), (ROOTFS_LIST_PATH, 0o644)]
    );
    assert_replaces_only(&plan, &base, &["hooks/miso_pxe_http"]);
    assert_eq!(
        plan.cmdline,
        "misobasedir=manjaro miso_http_srv={base}/ ip=dhcp net.ifnames=0"
    );
    let list = String::from_utf8(plan.overlay[1].contents.clone()).unwrap();
    assert_eq!(list.lines().count(), 5);
    assert_eq!(plan.ram_mib, (4864 + 300 + 512_u64).div_ceil(256) * 256);

    let without_rootfs = vec![image("desktopfs.sfs", &[GIB])];
    let error = make(BootFamilyKind::Miso, &base, &without_rootfs, &[]).unwrap_err();
    assert_eq!(error.kind(), "boot-unexpected-rootfs");
}

#[test]
fn mkinitcpio_config_hooks_are_read_as_mkinitcpio_writes_them() {
    use repack_boot::mkinitcpio::config_hooks;
    let config = "MODULES=\"loop\"\nEARLYHOOKS=\"\"\nHOOKS=\"base udev archiso archiso_pxe_http\"\nLATEHOOKS=\"archiso_pxe_common\"\n";
    assert_eq!(
        config_hooks(config).collect::<Vec<_>>(),
        ["base", "udev", "archiso", "archiso_pxe_http"]
    );
    // LATEHOOKS is not HOOKS: a hook only listed there never has its run_hook called.
    assert!(!config_hooks(config).any(|hook| hook == "archiso_pxe_common"));
    assert_eq!(
        config_hooks("HOOKS=(base archiso_pxe_http)\n").collect::<Vec<_>>(),
        ["base", "archiso_pxe_http"]
    );
}

#[test]
fn archiso_publishes_its_side_files_through_the_list() {
    let base = mkinitcpio_base(&["archiso", "archiso_pxe_common", "archiso_pxe_http"]);
    let rootfs = vec![image("airootfs.sfs", &[GIB])];
    let side = vec![ManifestFile {
        role: FileRole::Side,
        ..image("airootfs.sha512", &[200])
    }];
    let plan = family(BootFamilyKind::Archiso)
        .unwrap()
        .plan(&BootInputs {
            rootfs: &rootfs,
            side_files: &side,
            initrd_size: 100 << 20,
            extra_args: &[],
            base: &base,
        })
        .unwrap();
    let list = String::from_utf8(plan.overlay[1].contents.clone()).unwrap();
    assert!(
        list.lines()
            .any(|line| line.starts_with("airootfs.sha512 airootfs.sha512 200 ")),
        "{list}"
    );
    assert_eq!(
        family(BootFamilyKind::Archiso)
            .unwrap()
            .side_files("airootfs.sfs"),
        [
            "airootfs.sha512",
            "airootfs.sfs.sig",
            "airootfs.sfs.cms.sig"
        ]
    );
    assert!(
        family(BootFamilyKind::Casper)
            .unwrap()
            .side_files("filesystem.squashfs")
            .is_empty()
    );
}
