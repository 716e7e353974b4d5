use repack_core::{Arch, FileRole, Manifest, Sha256Digest};
use repack_e2e::{Env, TEST_PART_SIZE, snapshot};
use repack_testkit::fixtures::{debian_live, sha256_file};
use repack_testkit::upstream::Served;
use std::path::Path;
use std::process::Command;

fn read_manifest(dir: &Path) -> Manifest {
    let text = std::fs::read(dir.join("manifest.json")).expect("manifest.json");
    serde_json::from_slice(&text).expect("manifest parses")
}

fn sha256(path: &Path) -> Sha256Digest {
    sha256_file(path).parse().unwrap()
}

#[tokio::test]
async fn publishes_a_release_then_a_second_run_changes_nothing() {
    let fixture = debian_live();
    let env = Env::new(1).await;
    let iso_sha256 = sha256_file(&fixture.iso);
    env.serve_release("12.10.0", Served::file(&fixture.iso), &iso_sha256);

    let run = env.repack(&["run", "debian-live"]).await;
    run.assert_success();
    assert!(
        run.stderr.contains("kernel and root image agree"),
        "the kernel's modules were checked in the root image: {}",
        run.stderr
    );
    assert!(
        run.stdout
            .starts_with("debian-live: published 12.10.0 as 12.10.0-"),
        "{}",
        run.stdout
    );

    // The newest of 12.8.0, 12.9.1 and 12.10.0 was chosen; only it was downloaded.
    let catalog = env.catalog().await;
    let current = catalog
        .current("debian-live", Arch::X86_64)
        .await
        .unwrap()
        .expect("a current build");
    assert_eq!(current.version, "12.10.0");
    assert_eq!(catalog.builds("debian-live").await.unwrap().len(), 1);
    let release = env.output_dir().join(&current.location);
    assert_eq!(current.location, format!("debian-live/{}", current.tag));

    // manifest.json describes exactly what is on disk.
    let manifest = read_manifest(&release);
    assert_eq!(manifest, current.manifest);
    assert_eq!(manifest.source.sha256, iso_sha256.parse().unwrap());
    assert_eq!(
        manifest.source.url,
        "https://cdimage.debian.org/debian-cd/current-live/amd64/iso-hybrid/debian-live-12.10.0-amd64-standard.iso"
    );
    assert_eq!(manifest.boot_family.as_str(), "live-boot");
    assert_eq!(
        manifest.cmdline,
        "boot=live fetch={base}/filesystem.squashfs ip=dhcp"
    );
    assert!(manifest.ram_mib >= 512);
    let mut joined = std::collections::BTreeMap::new();
    for file in &manifest.files {
        let mut whole = Vec::new();
        for part in &file.parts {
            let path = release.join(&part.name);
            assert_eq!(
                std::fs::metadata(&path).unwrap().len(),
                part.size,
                "{}",
                part.name
            );
            assert_eq!(sha256(&path), part.sha256, "{}", part.name);
            whole.extend(std::fs::read(&path).unwrap());
        }
        assert_eq!(whole.len() as u64, file.size);
        // A one-part file carries its digest; a split one is covered by its parts'.
        let one_part = (file.parts.len() == 1).then(|| Sha256Digest::of(&whole));
        assert_eq!(file.sha256, one_part, "{}", file.name);
        joined.insert(file.name.clone(), whole);
    }
    let names: Vec<&str> = manifest.stored_names().collect();
    assert_eq!(
        names,
        [
            "vmlinuz",
            "initrd",
            "filesystem.squashfs",
            "filesystem.squashfs.part2",
            "filesystem.squashfs.part3"
        ]
    );
    let mut on_disk: Vec<String> = std::fs::read_dir(&release)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut expected: Vec<String> = names.iter().map(|name| name.to_string()).collect();
    expected.extend(["SHA256SUMS".to_owned(), "manifest.json".to_owned()]);
    expected.sort();
    assert_eq!(on_disk, expected);

    // Kernel and root image are the upstream bytes; the squashfs is split at the part size.
    let rootfs = manifest.file(FileRole::Rootfs).unwrap();
    assert_eq!(
        Sha256Digest::of(&joined[&rootfs.name]),
        sha256(&fixture.squashfs)
    );
    assert!(
        rootfs.parts[..2]
            .iter()
            .all(|part| part.size == TEST_PART_SIZE)
    );
    assert_eq!(
        manifest.file(FileRole::Kernel).unwrap().sha256,
        Some(sha256(&fixture.vmlinuz))
    );

    // SHA256SUMS is what sha256sum -c expects.
    let check = Command::new("sha256sum")
        .args(["-c", "--strict", "SHA256SUMS"])
        .current_dir(&release)
        .output()
        .expect("sha256sum runs");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );

    check_initrd(&release.join("initrd"), &fixture.initrd);

    // The menu boots the current build with the family's command line.
    let menu = std::fs::read_to_string(env.output_dir().join("menu.ipxe")).unwrap();
    let base = format!("${{repack-base}}/{}", current.location);
    assert!(menu.starts_with("#!ipxe\n"));
    assert!(menu.contains("isset ${repack-base} || set repack-base http://10.0.2.100"));
    assert!(
        menu.contains(&format!(
            "kernel {base}/vmlinuz initrd=initrd boot=live fetch={base}/filesystem.squashfs ip=dhcp"
        )),
        "{menu}"
    );
    assert!(
        menu.contains(&format!("initrd --name initrd {base}/initrd")),
        "{menu}"
    );
    assert!(menu.contains("iseq ${buildarch} x86_64"), "{menu}");
    catalog.close().await;

    // `repack menu` renders the same menu from the catalogue alone.
    let printed = env.repack(&["menu", "-o", "-"]).await;
    printed.assert_success();
    assert_eq!(printed.stdout, menu);
    // `repack export endpoints` lists the build for netboot.xyz menus: its path and exactly
    // its stored files (split parts included), written whole.
    let exported = env.repack(&["export", "endpoints"]).await;
    exported.assert_success();
    let yaml = &exported.stdout;
    assert!(yaml.contains("endpoints:\n"), "{yaml}");
    assert!(
        yaml.contains(&format!("path: /{}/\n", current.location)),
        "{yaml}"
    );
    assert!(yaml.contains("version: \"12.10.0\"\n"), "{yaml}");
    assert!(yaml.contains("arch: x86_64\n"), "{yaml}");
    let names: Vec<&str> = current.manifest.stored_names().collect();
    assert!(names.len() >= 3, "{names:?}");
    for name in &names {
        assert!(
            yaml.contains(&format!("- {name}\n")),
            "{name} not in {yaml}"
        );
    }
    assert_eq!(
        yaml.matches("\n    - ").count(),
        names.len(),
        "exactly the stored files: {yaml}"
    );
    let written = env.dir.path().join("endpoints.yml");
    env.repack(&["export", "endpoints", "-o", written.to_str().unwrap()])
        .await
        .assert_success();
    assert_eq!(std::fs::read_to_string(&written).unwrap(), *yaml);

    std::fs::remove_file(env.output_dir().join("menu.ipxe")).unwrap();
    env.repack(&["menu"]).await.assert_success();
    assert_eq!(
        std::fs::read_to_string(env.output_dir().join("menu.ipxe")).unwrap(),
        menu
    );

    // Second run: nothing new upstream, nothing downloaded, nothing touched.
    let before = snapshot(env.dir.path());
    let iso_requests = env.upstream.requests_for(&Env::iso_path("12.10.0")).len();
    let again = env.repack(&["run", "debian-live"]).await;
    again.assert_success();
    assert_eq!(
        again.stdout,
        format!(
            "debian-live: nothing new upstream; 12.10.0 is published as {}\n",
            current.tag
        )
    );
    assert_eq!(
        env.upstream.requests_for(&Env::iso_path("12.10.0")).len(),
        iso_requests
    );
    let after = snapshot(env.dir.path());
    let changed: Vec<_> = after
        .iter()
        .filter(|entry| !before.contains(entry))
        .filter(|(path, _, _)| !path.to_string_lossy().contains("catalog.db"))
        .collect();
    assert!(changed.is_empty(), "second run changed {changed:?}");
    let catalog = env.catalog().await;
    assert_eq!(catalog.builds("debian-live").await.unwrap().len(), 1);
    catalog.close().await;

    // The status command reports the current build from the catalogue.
    let status = env.repack(&["status", "--json"]).await;
    status.assert_success();
    let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let row = crate::failures::status_row(&status, "debian-live");
    assert_eq!(row["state"], "current");
    assert_eq!(row["published"][0]["tag"], current.tag.as_str());
    assert_eq!(row["upstream"]["version"], "12.10.0");
    assert_eq!(row["check"]["consecutive_failures"], 0);
    let download: u64 = current.manifest.files.iter().map(|file| file.size).sum();
    assert_eq!(row["published"][0]["download_bytes"], download);
    crate::failures::assert_rfc3339_utc(&row["published"][0]["live_since"]);
    crate::failures::assert_rfc3339_utc(&row["check"]["last_check_at"]);
    crate::failures::assert_rfc3339_utc(&row["check"]["last_success_at"]);
}

/// The upstream initrd's bytes are untouched; after zero padding to a 4 KiB boundary comes
/// one gzip cpio that independent tools (gzip, GNU cpio) read. (Debian 12's lsinitramfs
/// cannot list an initrd with two compressed members; the kernel can, see the boot tests.)
fn check_initrd(patched: &Path, upstream: &Path) {
    let patched_bytes = std::fs::read(patched).unwrap();
    let upstream_bytes = std::fs::read(upstream).unwrap();
    assert!(
        patched_bytes.starts_with(&upstream_bytes),
        "upstream bytes changed"
    );
    let overlay_start = upstream_bytes.len().div_ceil(4096) * 4096;
    assert!(
        patched_bytes[upstream_bytes.len()..overlay_start]
            .iter()
            .all(|&b| b == 0)
    );
    assert_eq!(
        &patched_bytes[overlay_start..overlay_start + 2],
        &[0x1f, 0x8b]
    );

    let work = tempfile::tempdir().unwrap();
    let overlay = work.path().join("overlay.cpio.gz");
    std::fs::write(&overlay, &patched_bytes[overlay_start..]).unwrap();
    let listing = shell(&format!("gzip -dc {} | cpio -t --quiet", overlay.display()));
    let entries: Vec<&str> = listing.lines().collect();
    assert!(
        entries.contains(&"usr/lib/live/boot/9999-repack.sh"),
        "{listing}"
    );
    assert!(entries.contains(&"etc/repack/rootfs.list"), "{listing}");
    let extracted = work.path().join("x");
    std::fs::create_dir(&extracted).unwrap();
    shell(&format!(
        "cd {} && gzip -dc {} | cpio -id --quiet",
        extracted.display(),
        overlay.display()
    ));
    let list = std::fs::read_to_string(extracted.join("etc/repack/rootfs.list")).unwrap();
    assert_eq!(list.lines().count(), 3, "{list}");
    assert!(list.starts_with("filesystem.squashfs filesystem.squashfs 67108864 "));
    let hook = std::fs::read_to_string(extracted.join("usr/lib/live/boot/9999-repack.sh")).unwrap();
    assert!(hook.contains("do_httpmount ()"));
}

fn shell(script: &str) -> String {
    let output = Command::new("sh")
        .arg("-c")
        .arg(script)
        .output()
        .expect("sh runs");
    assert!(
        output.status.success(),
        "`{script}` failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// An upstream initrd whose main archive is legacy lz4 (made by the real `lz4 -l`, as
/// mkinitramfs's COMPRESS=lz4 does): nothing can follow it on older kernels, so its cpio
/// bytes are re-wrapped, unchanged, as gzip, and the overlay follows that.
#[tokio::test]
async fn an_initrd_ending_in_legacy_lz4_is_rewrapped_and_published() {
    let work = tempfile::tempdir().unwrap();
    let lz4 = repack_e2e::fixture_initrd_as_legacy_lz4(work.path());
    let iso = repack_e2e::live_iso_with_initrd(work.path(), &std::fs::read(&lz4).unwrap());
    let env = Env::new(0).await;
    env.serve_release("12.10.0", Served::file(&iso), &sha256_file(&iso));
    let run = env.repack(&["run", "debian-live"]).await;
    run.assert_success();
    assert!(run.stderr.contains("legacy-lz4"), "{}", run.stderr);

    let release = std::fs::read_dir(env.output_dir().join("debian-live"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let initrd = release.join("initrd");
    let lint = Command::new(repack_testkit::repack_binary())
        .args(["initrd", "lint", "--json"])
        .arg(&initrd)
        .output()
        .unwrap();
    assert!(
        lint.status.success(),
        "{}",
        String::from_utf8_lossy(&lint.stdout)
    );
    let ls = |image: &Path| -> serde_json::Value {
        let out = Command::new(repack_testkit::repack_binary())
            .args(["initrd", "ls", "--json", "--all"])
            .arg(image)
            .output()
            .unwrap();
        assert!(out.status.success());
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let published = ls(&initrd);
    let kinds: Vec<String> = published["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].to_string())
        .collect();
    assert!(kinds[0].contains("gzip"), "{kinds:?}");
    assert!(kinds.last().unwrap().contains("gzip"), "{kinds:?}");
    // Every upstream entry is there, in order, in the re-wrapped member.
    let names = |v: &serde_json::Value, segment: u64| -> Vec<String> {
        v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["segment"] == segment)
            .map(|e| e["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let upstream = ls(&lz4);
    assert_eq!(names(&published, 0), names(&upstream, 0));
    assert!(names(&upstream, 0).len() > 1000);
}

#[tokio::test]
async fn a_lower_part_size_is_a_new_build_split_at_the_new_size() {
    let fixture = debian_live();
    let env = Env::new(1).await;
    let iso_sha256 = sha256_file(&fixture.iso);
    env.serve_release("12.10.0", Served::file(&fixture.iso), &iso_sha256);
    env.repack(&["run", "debian-live"]).await.assert_success();
    let catalog = env.catalog().await;
    let first = catalog
        .current("debian-live", Arch::X86_64)
        .await
        .unwrap()
        .unwrap();

    // An operator lowers the part size (a mirror's file-size limit): same ISO, same recipe.
    let smaller = (TEST_PART_SIZE / 2).to_string();
    let run = env
        .repack_with_env(&["run", "debian-live"], &[("REPACK_PART_SIZE", &smaller)])
        .await;
    run.assert_success();
    assert!(
        !run.stdout.contains("nothing new") && run.stdout.contains("published 12.10.0"),
        "{}",
        run.stdout
    );
    let second = catalog
        .current("debian-live", Arch::X86_64)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(first.tag, second.tag, "a re-split release gets its own tag");
    assert_eq!(catalog.builds("debian-live").await.unwrap().len(), 2);
    let rootfs = second.manifest.file(FileRole::Rootfs).unwrap();
    let first_rootfs = first.manifest.file(FileRole::Rootfs).unwrap();
    assert_eq!(rootfs.sha256, first_rootfs.sha256, "the same image");
    assert!(rootfs.parts.len() > first_rootfs.parts.len());
    assert!(
        rootfs
            .parts
            .iter()
            .all(|part| part.size <= TEST_PART_SIZE / 2),
        "{:?}",
        rootfs.parts
    );
    let release = env.output_dir().join(&second.location);
    for part in &rootfs.parts {
        assert_eq!(
            sha256(&release.join(&part.name)),
            part.sha256,
            "{}",
            part.name
        );
    }
}
