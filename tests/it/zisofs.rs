//! zisofs (Rock Ridge `ZF`) in an upstream ISO: a compressed kernel is published decoded,
//! byte for byte the original; a compressed initrd or root image, which repack reads and
//! copies by extent, is refused by name before anything is published. Never compressed
//! bytes in a release.

use repack_core::{Arch, FileRole, Sha256Digest};
use repack_e2e::Env;
use repack_testkit::fixtures::{debian_live, sha256_file};
use repack_testkit::upstream::Served;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Debian fixture's layout, packed by xorriso with its own zisofs filter on `compress`
/// (paths inside the ISO).
fn zisofs_live_iso(work: &Path, compress: &[&str]) -> PathBuf {
    let fixture = debian_live();
    let live = work.join("root/live");
    std::fs::create_dir_all(&live).unwrap();
    let kver = &fixture.kernel_version;
    std::fs::copy(&fixture.vmlinuz, live.join(format!("vmlinuz-{kver}"))).unwrap();
    std::fs::copy(&fixture.initrd, live.join(format!("initrd.img-{kver}"))).unwrap();
    std::fs::write(live.join("filesystem.squashfs"), vec![0x73; 1 << 20]).unwrap();
    let iso = work.join("zisofs.iso");
    let mut command = Command::new("xorriso");
    command
        .args(["-report_about", "SORRY", "-outdev"])
        .arg(&iso)
        .args([
            "-rockridge",
            "on",
            "-zisofs",
            "level=9:block_size=64k",
            "-map",
        ])
        .arg(work.join("root"))
        .arg("/");
    for path in compress {
        let path = path.replace("{kver}", kver);
        command.args(["-set_filter", "--zisofs", &path, "--"]);
    }
    let out = command
        .arg("-commit")
        .output()
        .expect("xorriso is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    iso
}

#[tokio::test]
async fn a_zisofs_kernel_is_published_decoded() {
    let work = tempfile::tempdir().unwrap();
    let iso = zisofs_live_iso(work.path(), &["/live/vmlinuz-{kver}"]);
    let env = Env::new(0).await;
    env.serve_release("12.10.0", Served::file(&iso), &sha256_file(&iso));
    env.repack(&["run", "debian-live"]).await.assert_success();
    let current = env
        .catalog()
        .await
        .current("debian-live", Arch::X86_64)
        .await
        .unwrap()
        .unwrap();
    let kernel = current.manifest.file(FileRole::Kernel).unwrap();
    let original = std::fs::read(&debian_live().vmlinuz).unwrap();
    assert_eq!(kernel.sha256, Some(Sha256Digest::of(&original)));
    let published =
        std::fs::read(env.output_dir().join(&current.location).join("vmlinuz")).unwrap();
    assert!(
        published == original,
        "the published kernel is not the original bytes"
    );
}

#[tokio::test]
async fn a_zisofs_initrd_is_refused_by_name_and_nothing_is_published() {
    let work = tempfile::tempdir().unwrap();
    let iso = zisofs_live_iso(work.path(), &["/live/initrd.img-{kver}"]);
    let env = Env::new(0).await;
    env.serve_release("12.10.0", Served::file(&iso), &sha256_file(&iso));
    let run = env.repack(&["run", "debian-live"]).await;
    run.assert_failure_mentions(&["initrd.img-", "nothing was published"]);
    assert!(
        run.error_lines().to_lowercase().contains("compress"),
        "{}",
        run.error_lines()
    );
    env.assert_nothing_published().await;
}
