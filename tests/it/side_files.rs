//! A boot family's side files: archiso's `airootfs.sha512` and signature beside the image are
//! published unchanged, listed in the manifest, and baked into the hook's list, so archiso's
//! own `checksum=y` and `verify=y` keep working on the published release.

use repack_core::{FileRole, Manifest, Sha256Digest};
use repack_e2e::Env;
use repack_testkit::fixtures::sha256_file;
use repack_testkit::shaped::{self, IsoEntry};
use repack_testkit::upstream::Served;
use std::path::{Path, PathBuf};
use std::process::Command;

/// An ISO laid out like Arch's, with the side files `airootfs.sha512` and `airootfs.sfs.sig`.
fn archiso_iso(work: &Path) -> (PathBuf, Vec<u8>, Vec<u8>) {
    let image = shaped::stand_in(0x61, 3 << 20);
    let scratch = work.join("sums");
    std::fs::create_dir_all(&scratch).unwrap();
    std::fs::write(scratch.join("airootfs.sfs"), &image).unwrap();
    let sums = Command::new("sha512sum")
        .arg("airootfs.sfs")
        .current_dir(&scratch)
        .output()
        .unwrap();
    assert!(sums.status.success());
    // A detached signature's bytes: published as they are, never interpreted by repack.
    let signature =
        b"\x89\x02\x33\x04\x00\x01\x0a\x00\x1d\x16\x21\x04not-a-real-signature".to_vec();
    let iso = shaped::iso(
        work,
        "archlinux.iso",
        vec![
            IsoEntry::Copy("arch/boot/x86_64/vmlinuz-linux".into(), shaped::kernel()),
            IsoEntry::Copy(
                "arch/boot/x86_64/initramfs-linux.img".into(),
                shaped::mkinitcpio_initrd(work, "archiso"),
            ),
            IsoEntry::Bytes("arch/x86_64/airootfs.sfs", image),
            IsoEntry::Bytes("arch/x86_64/airootfs.sha512", sums.stdout.clone()),
            IsoEntry::Bytes("arch/x86_64/airootfs.sfs.sig", signature.clone()),
        ],
    );
    (iso, sums.stdout, signature)
}

#[tokio::test]
async fn archiso_side_files_are_published_listed_and_baked_into_the_hook_list() {
    let work = tempfile::tempdir().unwrap();
    let (iso, sha512, signature) = archiso_iso(work.path());
    let env = Env::new(1).await;
    env.serve_listed(
        "/archiso",
        "archlinux-2026.12.01-x86_64.iso",
        Served::file(&iso),
        &sha256_file(&iso),
    );
    let run = env.repack(&["run", "archiso-live"]).await;
    run.assert_success();

    let catalog = env.catalog().await;
    let current = catalog
        .current("archiso-live", repack_core::Arch::X86_64)
        .await
        .unwrap()
        .expect("published");
    let release = env.output_dir().join(&current.location);
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(release.join("manifest.json")).unwrap()).unwrap();
    let side: Vec<(&str, FileRole)> = manifest
        .files
        .iter()
        .filter(|file| file.role == FileRole::Side)
        .map(|file| (file.name.as_str(), file.role))
        .collect();
    assert_eq!(
        side,
        [
            ("airootfs.sha512", FileRole::Side),
            ("airootfs.sfs.sig", FileRole::Side)
        ],
        "only the side files the ISO has"
    );
    assert_eq!(
        std::fs::read(release.join("airootfs.sha512")).unwrap(),
        sha512
    );
    assert_eq!(
        std::fs::read(release.join("airootfs.sfs.sig")).unwrap(),
        signature
    );
    let listed = manifest
        .files
        .iter()
        .find(|file| file.name == "airootfs.sha512")
        .unwrap();
    assert_eq!(listed.sha256, Some(Sha256Digest::of(&sha512)));
    // archiso's own check passes on the published image.
    let check = Command::new("sha512sum")
        .args(["-c", "airootfs.sha512"])
        .current_dir(&release)
        .output()
        .unwrap();
    assert!(check.status.success(), "{check:?}");

    // The hook's list in the patched initrd names the side files with their sha256.
    let list = Command::new(repack_testkit::repack_binary())
        .args(["initrd", "cat"])
        .arg(release.join("initrd"))
        .arg("etc/repack/rootfs.list")
        .output()
        .unwrap();
    assert!(list.status.success(), "{list:?}");
    let list = String::from_utf8(list.stdout).unwrap();
    assert!(
        list.contains(&format!(
            "airootfs.sha512 airootfs.sha512 {} {}",
            sha512.len(),
            Sha256Digest::of(&sha512)
        )),
        "{list}"
    );
    assert!(
        list.contains("airootfs.sfs.sig airootfs.sfs.sig "),
        "{list}"
    );
    assert!(
        list.lines().next().unwrap().starts_with("airootfs.sfs "),
        "{list}"
    );
}
