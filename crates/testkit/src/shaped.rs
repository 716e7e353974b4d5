//! ISOs laid out like each upstream's live media (paths, names, initrd layering), for the
//! end-to-end runs of the shipped recipes. The kernel is the Debian fixture's real bzImage;
//! the initrd is built with GNU cpio and the upstream's compressor and carries the files its
//! boot family reads at build time (scripts, hook lists, a busybox whose applet table names
//! what the hook runs); root images are small stand-ins (not SquashFS, so the kernel/modules
//! check logs them as not checked). Shapes follow `shared/notes/upstreams.md`.
//!
//! Whole ISOs in each upstream's shape ([`ubuntu_desktop`], [`archiso`], [`manjaro`],
//! [`pop_os`]) come back as a [`Shaped`]: the image and the bytes of every file placed in it,
//! so a test can compare what was published with what the upstream shipped.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One file of an initrd: path, contents, mode.
pub type InitrdFile = (&'static str, Vec<u8>, u32);

/// How a member of an initrd is stored.
#[derive(Debug, Clone, Copy)]
pub enum Member {
    /// An uncompressed newc archive (early microcode).
    Plain,
    Gzip,
    Zstd,
}

/// A busybox binary whose applet table names `applets` (the families look for `\0name\0`).
pub fn fake_busybox(applets: &[&str]) -> Vec<u8> {
    let mut table = b"\x7fELF\x02\x01\x01\0[\0[[\0".to_vec();
    for applet in applets {
        table.extend_from_slice(applet.as_bytes());
        table.push(0);
    }
    table
}

/// Writes an initrd made of `members`, each a newc archive of its files (GNU cpio, sorted,
/// with parent directories) stored as the member says, concatenated in order.
pub fn initrd(work: &Path, name: &str, members: &[(Member, Vec<InitrdFile>)]) -> PathBuf {
    let out = work.join(name);
    let mut image = Vec::new();
    for (index, (member, files)) in members.iter().enumerate() {
        let root = work.join(format!("{name}.member{index}"));
        for (path, contents, mode) in files {
            let file = root.join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, contents).unwrap();
            std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(*mode))
                .unwrap();
        }
        let compress = match member {
            Member::Plain => "cat",
            Member::Gzip => "gzip -n -9",
            Member::Zstd => "zstd -q -19",
        };
        let archive = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "cd \"$1\" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible | {compress}"
            ))
            .arg("sh")
            .arg(&root)
            .output()
            .expect("cpio, gzip and zstd are installed");
        assert!(archive.status.success(), "{archive:?}");
        image.extend_from_slice(&archive.stdout);
        if matches!(member, Member::Plain) {
            // The next member must start 4-byte aligned after an uncompressed one.
            image.resize(image.len().div_ceil(4) * 4, 0);
        }
    }
    std::fs::write(&out, image).unwrap();
    out
}

/// A file placed in an ISO: its path and where its bytes come from.
pub enum IsoEntry {
    Bytes(&'static str, Vec<u8>),
    Copy(String, PathBuf),
    /// Bytes at a path computed at run time.
    Owned(String, Vec<u8>),
    /// A symbolic link (recorded as Rock Ridge `SL`) at `path` pointing to `target`.
    Symlink {
        path: String,
        target: String,
    },
}

/// Packs `entries` into an ISO (Rock Ridge + Joliet, like the upstreams' hybrids) at
/// `work/<name>`.
pub fn iso(work: &Path, name: &str, entries: Vec<IsoEntry>) -> PathBuf {
    let root = work.join(format!("{name}.root"));
    for entry in entries {
        let (path, target) = match &entry {
            IsoEntry::Bytes(path, _) => (path.to_string(), root.join(path)),
            IsoEntry::Copy(path, _) | IsoEntry::Owned(path, _) => (path.clone(), root.join(path)),
            IsoEntry::Symlink { path, .. } => (path.clone(), root.join(path)),
        };
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        match entry {
            IsoEntry::Bytes(_, bytes) | IsoEntry::Owned(_, bytes) => {
                std::fs::write(&target, bytes).unwrap()
            }
            IsoEntry::Copy(_, from) => {
                std::fs::copy(&from, &target).unwrap_or_else(|error| panic!("{path}: {error}"));
            }
            IsoEntry::Symlink { target: to, .. } => {
                std::os::unix::fs::symlink(&to, &target)
                    .unwrap_or_else(|error| panic!("{path}: {error}"));
            }
        }
    }
    let out = work.join(name);
    let made = Command::new("xorriso")
        .args([
            "-as",
            "mkisofs",
            "-quiet",
            "-R",
            "-J",
            "-V",
            "REPACK_TEST",
            "-o",
        ])
        .arg(&out)
        .arg(&root)
        .status()
        .expect("xorriso is installed");
    assert!(made.success(), "xorriso failed for {name}");
    std::fs::remove_dir_all(&root).unwrap();
    out
}

/// Stand-in root image bytes: `size` bytes derived from `seed` (distinct per image).
pub fn stand_in(seed: u8, size: usize) -> Vec<u8> {
    (0..size)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3] ^ seed)
        .collect()
}

/// The Debian fixture's kernel, for every shape.
pub fn kernel() -> PathBuf {
    crate::fixtures::debian_live().vmlinuz.clone()
}

/// An Ubuntu desktop 24.04+ initrd: early microcode (uncompressed), then zstd with casper's
/// scripts, its premount ORDER, the default layer and a busybox with wget and sha256sum.
pub fn ubuntu_initrd(work: &Path, default_layer: Option<&str>) -> PathBuf {
    casper_initrd(work, "ubuntu-initrd", default_layer)
}

/// A casper initrd as initramfs-tools makes it on Ubuntu and its derivatives, written to
/// `work/<name>`: see [`ubuntu_initrd`].
pub fn casper_initrd(work: &Path, name: &str, default_layer: Option<&str>) -> PathBuf {
    let mut main: Vec<InitrdFile> = vec![
        ("init", b"#!/bin/sh\n".to_vec(), 0o755),
        ("scripts/casper", b"# casper\nmountroot () { :; }\n".to_vec(), 0o644),
        (
            "scripts/casper-premount/10driver_updates",
            b"#!/bin/sh\n".to_vec(),
            0o755,
        ),
        (
            "scripts/casper-premount/ORDER",
            b"/scripts/casper-premount/10driver_updates \"$@\"\n[ -e /conf/param.conf ] && . /conf/param.conf\n".to_vec(),
            0o644,
        ),
        (
            "usr/bin/busybox",
            fake_busybox(&["sh", "wget", "sha256sum", "mkfifo", "tee"]),
            0o755,
        ),
    ];
    if let Some(layer) = default_layer {
        main.push((
            "conf/conf.d/default-layer.conf",
            format!("LAYERFS_PATH={layer}\n").into_bytes(),
            0o644,
        ));
    }
    initrd(
        work,
        name,
        &[
            (
                Member::Plain,
                vec![(
                    "kernel/x86/microcode/GenuineIntel.bin",
                    b"microcode".to_vec(),
                    0o644,
                )],
            ),
            (Member::Zstd, main),
        ],
    )
}

/// A mkinitcpio initrd for `family` (`archiso` or `miso`): `/config` naming the PXE hooks,
/// the hook files, curl and a busybox with sha256sum; zstd.
pub fn mkinitcpio_initrd(work: &Path, family: &'static str) -> PathBuf {
    let (main, common, http) = match family {
        "archiso" => (
            "hooks/archiso",
            "hooks/archiso_pxe_common",
            "hooks/archiso_pxe_http",
        ),
        "miso" => ("hooks/miso", "hooks/miso_pxe_common", "hooks/miso_pxe_http"),
        other => panic!("no mkinitcpio family {other}"),
    };
    let hooks = [main, common, http]
        .iter()
        .map(|hook| hook.trim_start_matches("hooks/"))
        .collect::<Vec<_>>()
        .join(" ");
    let config = format!(
        "EARLYHOOKS=\"\"\nHOOKS=\"base udev {hooks} block filesystems\"\nLATEHOOKS=\"{}\"\nCLEANUPHOOKS=\"\"\n",
        common.trim_start_matches("hooks/")
    );
    initrd(
        work,
        &format!("{family}-initramfs"),
        &[(
            Member::Zstd,
            vec![
                ("init", b"#!/usr/bin/ash\n".to_vec(), 0o755),
                ("config", config.into_bytes(), 0o644),
                (main, b"run_hook () { :; }\n".to_vec(), 0o755),
                (common, b"run_hook () { :; }\n".to_vec(), 0o755),
                (http, b"run_hook () { :; }\n".to_vec(), 0o755),
                ("usr/bin/curl", b"\x7fELF".to_vec(), 0o755),
                ("usr/bin/busybox", fake_busybox(&["sh", "sha256sum"]), 0o755),
            ],
        )],
    )
}

/// An ISO built in an upstream's shape, with the bytes of every regular file placed in it.
pub struct Shaped {
    pub iso: PathBuf,
    files: Vec<(String, Vec<u8>)>,
}

impl Shaped {
    /// The bytes placed at `path` (as written in the ISO, without a leading `/`).
    pub fn bytes(&self, path: &str) -> &[u8] {
        self.files
            .iter()
            .find(|(placed, _)| placed == path)
            .map(|(_, bytes)| bytes.as_slice())
            .unwrap_or_else(|| panic!("{path} was not placed in {}", self.iso.display()))
    }

    /// Every regular file's path in the ISO, in the order they were placed.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(|(path, _)| path.as_str())
    }
}

/// Packs `entries` like [`iso`] and remembers the bytes of every regular file.
fn shaped(work: &Path, name: &str, entries: Vec<IsoEntry>) -> Shaped {
    let files = entries
        .iter()
        .filter_map(|entry| match entry {
            IsoEntry::Bytes(path, bytes) => Some((path.to_string(), bytes.clone())),
            IsoEntry::Owned(path, bytes) => Some((path.clone(), bytes.clone())),
            IsoEntry::Copy(path, from) => Some((path.clone(), std::fs::read(from).unwrap())),
            IsoEntry::Symlink { .. } => None,
        })
        .collect();
    Shaped {
        iso: iso(work, name, entries),
        files,
    }
}

/// A scratch directory for one ISO's initrd, so several shapes can share `work`.
fn scratch(work: &Path, name: &str) -> PathBuf {
    let dir = work.join(format!("{name}.parts"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The layers casper mounts for Ubuntu desktop's default boot, base first.
pub const UBUNTU_DESKTOP_LAYERS: [&str; 3] = [
    "minimal.squashfs",
    "minimal.standard.squashfs",
    "minimal.standard.live.squashfs",
];

/// Layers an Ubuntu desktop ISO carries beside the default chain that a default boot never
/// mounts: language packs, the no-languages variants, and amd64's enhanced-secureboot
/// layers (upstreams.md).
pub const UBUNTU_DESKTOP_OTHER_LAYERS: [&str; 6] = [
    "minimal.en.squashfs",
    "minimal.standard.en.squashfs",
    "minimal.no-languages.squashfs",
    "minimal.standard.no-languages.squashfs",
    "minimal.enhanced-secureboot.squashfs",
    "minimal.standard.enhanced-secureboot.squashfs",
];

/// Ubuntu desktop 24.04 and later as livecd-rootfs lays it out (`shared/notes/upstreams.md`):
/// `casper/vmlinuz`, `casper/initrd` (early microcode, then zstd, with
/// `LAYERFS_PATH=minimal.standard.live.squashfs` in `conf/conf.d/default-layer.conf`), the
/// layer chain of [`UBUNTU_DESKTOP_LAYERS`], the layers of [`UBUNTU_DESKTOP_OTHER_LAYERS`],
/// `casper/install-sources.yaml` and `.disk/info`. `seed` makes each release's bytes distinct.
/// Assumed, not seen: the exact set of language layers (one language stands for all).
pub fn ubuntu_desktop(work: &Path, name: &str, version: &str, seed: u8) -> Shaped {
    let parts = scratch(work, name);
    let mut entries = vec![
        IsoEntry::Copy("casper/vmlinuz".into(), kernel()),
        IsoEntry::Copy(
            "casper/initrd".into(),
            casper_initrd(&parts, "initrd", Some("minimal.standard.live.squashfs")),
        ),
        IsoEntry::Owned(
            ".disk/info".into(),
            format!("Ubuntu {version} LTS - Release amd64").into_bytes(),
        ),
        IsoEntry::Bytes(
            "casper/install-sources.yaml",
            b"- default: true\n  id: ubuntu-desktop-minimal\n  path: minimal.standard.squashfs\n"
                .to_vec(),
        ),
    ];
    let sizes = [1 << 20, 768 << 10, 512 << 10];
    for (index, (layer, size)) in UBUNTU_DESKTOP_LAYERS.iter().zip(sizes).enumerate() {
        entries.push(IsoEntry::Owned(
            format!("casper/{layer}"),
            stand_in(seed ^ index as u8, size),
        ));
    }
    for (index, layer) in UBUNTU_DESKTOP_OTHER_LAYERS.iter().enumerate() {
        entries.push(IsoEntry::Owned(
            format!("casper/{layer}"),
            stand_in(seed ^ (0x40 + index as u8), 256 << 10),
        ));
    }
    shaped(work, name, entries)
}

/// The images Manjaro's miso boots, in the order its hooks mount them.
pub const MANJARO_LAYERS: [&str; 4] = ["rootfs.sfs", "desktopfs.sfs", "mhwdfs.sfs", "livefs.sfs"];

/// Arch Linux's release ISO as archiso's releng profile lays it out (`shared/notes/upstreams.md`):
/// `arch/boot/x86_64/{vmlinuz-linux,initramfs-linux.img}`, `arch/x86_64/airootfs.sfs` with
/// its `airootfs.sha512` (sha512sum's output, as archiso writes it), `arch/version`,
/// `arch/pkglist.x86_64.txt` and a systemd-boot entry.
pub fn archiso(work: &Path, name: &str, version: &str, seed: u8) -> Shaped {
    use sha2::Digest;
    let parts = scratch(work, name);
    let image = stand_in(seed, 2 << 20);
    let sha512 = format!(
        "{}  airootfs.sfs\n",
        hex::encode(sha2::Sha512::digest(&image))
    );
    let entries = vec![
        IsoEntry::Copy("arch/boot/x86_64/vmlinuz-linux".into(), kernel()),
        IsoEntry::Copy(
            "arch/boot/x86_64/initramfs-linux.img".into(),
            mkinitcpio_initrd(&parts, "archiso"),
        ),
        IsoEntry::Owned("arch/x86_64/airootfs.sfs".into(), image),
        IsoEntry::Owned("arch/x86_64/airootfs.sha512".into(), sha512.into_bytes()),
        IsoEntry::Owned("arch/version".into(), format!("{version}\n").into_bytes()),
        IsoEntry::Bytes(
            "arch/pkglist.x86_64.txt",
            b"base 3-2\nlinux 6.12.1.arch1-1\n".to_vec(),
        ),
        IsoEntry::Bytes(
            "loader/entries/01-archiso-x86_64-linux.conf",
            b"title Arch Linux install medium (x86_64, UEFI)\nlinux /arch/boot/x86_64/vmlinuz-linux\ninitrd /arch/boot/x86_64/initramfs-linux.img\noptions archisobasedir=arch archisosearchuuid=%ARCHISO_UUID%\n".to_vec(),
        ),
    ];
    shaped(work, name, entries)
}

/// A Manjaro release ISO as miso lays it out (`shared/notes/upstreams.md`):
/// `boot/vmlinuz-x86_64`, `boot/initramfs-x86_64.img` (mkinitcpio with the miso hooks), the
/// four images of [`MANJARO_LAYERS`] under `manjaro/x86_64/`, and the microcode images beside
/// the kernel (assumed, not seen).
pub fn manjaro(work: &Path, name: &str, seed: u8) -> Shaped {
    let parts = scratch(work, name);
    let mut entries = vec![
        IsoEntry::Copy("boot/vmlinuz-x86_64".into(), kernel()),
        IsoEntry::Copy(
            "boot/initramfs-x86_64.img".into(),
            mkinitcpio_initrd(&parts, "miso"),
        ),
        IsoEntry::Bytes("boot/intel_ucode.img", b"intel microcode".to_vec()),
        IsoEntry::Bytes("boot/amd_ucode.img", b"amd microcode".to_vec()),
    ];
    let sizes = [1 << 20, 768 << 10, 256 << 10, 512 << 10];
    for (index, (layer, size)) in MANJARO_LAYERS.iter().zip(sizes).enumerate() {
        entries.push(IsoEntry::Owned(
            format!("manjaro/x86_64/{layer}"),
            stand_in(seed ^ index as u8, size),
        ));
    }
    shaped(work, name, entries)
}

/// A Pop!_OS ISO as pop-os/iso's `mk/iso.mk` lays it out: everything casper needs in
/// `casper_<iso name>/` (`vmlinuz.efi`, `initrd.gz` — the chroot's `initrd.img` copied under
/// that name, so compressed as initramfs-tools does, not necessarily gzip —, one
/// `filesystem.squashfs`, `filesystem.manifest`, `filesystem.manifest-remove`,
/// `filesystem.size`), a `casper` symlink to that directory, and a grub.cfg booting it with
/// `live-media-path=/casper_<iso name>`. The ISO name is `iso_stem` (the file name without
/// `.iso`; that the release ISO keeps the build's `ISO_NAME` is assumed, not seen).
pub fn pop_os(work: &Path, iso_stem: &str, seed: u8) -> Shaped {
    let parts = scratch(work, iso_stem);
    let casper = format!("casper_{iso_stem}");
    let entries = vec![
        IsoEntry::Copy(format!("{casper}/vmlinuz.efi"), kernel()),
        IsoEntry::Copy(
            format!("{casper}/initrd.gz"),
            casper_initrd(&parts, "initrd.gz", None),
        ),
        IsoEntry::Owned(
            format!("{casper}/filesystem.squashfs"),
            stand_in(seed, 2 << 20),
        ),
        IsoEntry::Owned(
            format!("{casper}/filesystem.manifest"),
            b"casper\t1.498\n".to_vec(),
        ),
        IsoEntry::Owned(
            format!("{casper}/filesystem.manifest-remove"),
            b"casper\n".to_vec(),
        ),
        IsoEntry::Owned(format!("{casper}/filesystem.size"), b"2097152\n".to_vec()),
        IsoEntry::Symlink {
            path: "casper".into(),
            target: casper.clone(),
        },
        IsoEntry::Owned(
            "boot/grub/grub.cfg".into(),
            format!(
                "menuentry \"Try or Install Pop_OS\" --class pop-os {{\n\tlinux /{casper}/vmlinuz.efi boot=casper live-media-path=/{casper} hostname=pop-os username=pop-os noprompt quiet splash ---\n\tinitrd /{casper}/initrd.gz\n}}\n"
            )
            .into_bytes(),
        ),
    ];
    shaped(work, &format!("{iso_stem}.iso"), entries)
}
