use repack_core::Arch;
use repack_e2e::Env;
use repack_testkit::fixtures::{debian_live, sha256_file, sha256_prefix};
use repack_testkit::upstream::Served;

/// The catalogue remembers the failure, so a broken upstream is not "nothing new".
async fn assert_check_failed(env: &Env, kind: &str) {
    let catalog = env.catalog().await;
    let checks = catalog.checks().await.unwrap();
    catalog.close().await;
    let check = checks
        .iter()
        .find(|check| check.recipe == "debian-live")
        .expect("the check was recorded");
    let error = check.last_error.as_ref().expect("an error was recorded");
    assert_eq!(error.kind, kind, "{error:?}");
    // The stored message carries the whole cause chain, not just "download failed".
    assert!(error.message.contains(": "), "{error:?}");
    assert_eq!(check.consecutive_failures, 1);
    let status = env.repack(&["status"]).await;
    assert_eq!(status.code, Some(3), "status exits 3 while a recipe fails");
    assert!(
        status.stdout.contains("(1 in a row, last at "),
        "{}",
        status.stdout
    );
    // --json: the error is structured and its time is RFC 3339 UTC.
    let json = env.repack(&["status", "--json"]).await;
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let row = status_row(&json, "debian-live");
    assert_eq!(row["state"], "failing");
    let last_error = &row["check"]["last_error"];
    assert_eq!(last_error["kind"], kind);
    assert_rfc3339_utc(&last_error["at"]);
    assert_rfc3339_utc(&row["check"]["last_check_at"]);
    assert_rfc3339_utc(&row["check"]["failing_since"]);
}

/// The row of `recipe` in `repack status --json`'s array.
pub fn status_row<'a>(json: &'a serde_json::Value, recipe: &str) -> &'a serde_json::Value {
    json.as_array()
        .expect("status --json prints an array")
        .iter()
        .find(|row| row["recipe"] == recipe)
        .unwrap_or_else(|| panic!("no row for {recipe} in {json}"))
}

/// Serves `iso` as the newest release; the run must fail with `kind`, mention every needle
/// and "nothing was published", and publish nothing.
async fn assert_refused(iso: &std::path::Path, kind: &str, needles: &[&str]) {
    let env = Env::new(0).await;
    env.serve_release("12.10.0", Served::file(iso), &sha256_file(iso));
    let run = env.repack(&["run", "debian-live"]).await;
    run.assert_failure_mentions(&[&["nothing was published"], needles].concat());
    env.assert_nothing_published().await;
    assert_check_failed(&env, kind).await;
}

#[tokio::test]
async fn corrupted_iso_is_quarantined_and_nothing_is_published() {
    let fixture = debian_live();
    let env = Env::new(0).await;
    let mut served = Served::file(&fixture.iso);
    served.flip_byte_at = Some(40 << 20);
    env.serve_release("12.10.0", served, &sha256_file(&fixture.iso));
    let run = env.repack(&["run", "debian-live"]).await;
    run.assert_failure_mentions(&[
        "building `debian-live` failed",
        "nothing was published",
        "debian-live-12.10.0-amd64-standard.iso",
        "sha256",
    ]);
    env.assert_nothing_published().await;
    let quarantine = env.data_dir().join("cache/quarantine");
    assert_eq!(std::fs::read_dir(&quarantine).unwrap().count(), 1);
    let cached = std::fs::read_dir(env.data_dir().join("cache/iso"))
        .map(|entries| {
            entries
                .filter(|entry| {
                    let name = entry.as_ref().unwrap().file_name();
                    let name = name.to_string_lossy();
                    name.ends_with(".iso") || name.ends_with(".part")
                })
                .count()
        })
        .unwrap_or(0);
    assert_eq!(cached, 0, "a corrupted download stayed in the cache");
    assert_check_failed(&env, "fetch-checksum-mismatch").await;
}

#[tokio::test]
async fn wrong_checksum_in_the_list_publishes_nothing() {
    let fixture = debian_live();
    let env = Env::new(0).await;
    let wrong = sha256_file(&fixture.iso_no_rootfs);
    env.serve_release("12.10.0", Served::file(&fixture.iso), &wrong);
    let run = env.repack(&["run", "debian-live"]).await;
    run.assert_failure_mentions(&["nothing was published", &wrong]);
    env.assert_nothing_published().await;
}

#[tokio::test]
async fn missing_path_in_the_iso_is_named_and_nothing_is_published() {
    let fixture = debian_live();
    let env = Env::new(0).await;
    env.serve_release(
        "12.10.0",
        Served::file(&fixture.iso_no_rootfs),
        &sha256_file(&fixture.iso_no_rootfs),
    );
    let run = env.repack(&["run", "debian-live"]).await;
    run.assert_failure_mentions(&["nothing was published", "live/filesystem.squashfs"]);
    env.assert_nothing_published().await;
}

#[tokio::test]
async fn truncated_iso_is_refused_and_nothing_is_published() {
    let fixture = debian_live();
    let env = Env::new(0).await;
    // The list matches the truncated bytes: the download verifies, the image does not.
    let cut = std::fs::metadata(&fixture.iso).unwrap().len() / 2;
    let mut served = Served::file(&fixture.iso);
    served.truncate_to = Some(cut);
    env.serve_release("12.10.0", served, &sha256_prefix(&fixture.iso, cut));
    let run = env.repack(&["run", "debian-live"]).await;
    run.assert_failure_mentions(&["nothing was published"]);
    let errors = run.error_lines();
    assert!(
        errors.contains("past the end") || errors.contains("truncated"),
        "the error should say the image is cut short:\n{errors}"
    );
    env.assert_nothing_published().await;
}

#[tokio::test]
async fn unreachable_upstream_is_an_error_not_nothing_new() {
    let env = Env::new(0).await;
    env.upstream.set_unavailable(true);
    let run = env.repack(&["run", "debian-live"]).await;
    run.assert_failure_mentions(&["SHA256SUMS", "503"]);
    env.assert_nothing_published().await;
    assert_check_failed(&env, "fetch-http-status").await;
}

/// An upstream initrd whose early microcode sits in a compressed member (the early loader
/// never sees it): the build stops at lint, names the rule, and publishes nothing.
#[tokio::test]
async fn initrd_that_fails_lint_is_refused_and_nothing_is_published() {
    use repack_initrd::Codec;
    use repack_initrd::testing::Newc;

    let fixture = debian_live();
    let mut initrd = std::fs::read(&fixture.initrd).unwrap();
    initrd.resize(initrd.len().next_multiple_of(4), 0);
    let late_microcode = Newc::new()
        .dir("kernel")
        .dir("kernel/x86")
        .dir("kernel/x86/microcode")
        .file("kernel/x86/microcode/GenuineIntel.bin", &[0x5a; 4096])
        .trailer();
    initrd.extend(Codec::Gzip.compress(&late_microcode).unwrap());
    let work = tempfile::tempdir().unwrap();
    let iso = repack_e2e::live_iso_with_initrd(work.path(), &initrd);

    assert_refused(
        &iso,
        "initrd-lint",
        &[
            "microcode-not-early",
            "kernel/x86/microcode/GenuineIntel.bin",
        ],
    )
    .await;
}

/// A root image whose kernel modules are for another kernel than the ISO's: the booted
/// system would have no drivers. Refused, naming both versions; nothing is published.
#[tokio::test]
async fn kernel_without_modules_in_the_root_image_is_refused() {
    let fixture = debian_live();
    let work = tempfile::tempdir().unwrap();
    let tree = work.path().join("tree");
    std::fs::create_dir_all(tree.join("usr/lib/modules/6.0.0-99-amd64/kernel")).unwrap();
    std::os::unix::fs::symlink("usr/lib", tree.join("lib")).unwrap();
    let squashfs = work.path().join("rootfs.squashfs");
    let made = std::process::Command::new("mksquashfs")
        .arg(&tree)
        .arg(&squashfs)
        .args(["-comp", "zstd", "-noappend", "-no-progress", "-quiet"])
        .status()
        .expect("mksquashfs is installed");
    assert!(made.success());
    let iso = repack_e2e::live_iso(work.path(), &fixture.initrd, &squashfs);
    assert_refused(
        &iso,
        "kernel-mismatch",
        &[
            &fixture.kernel_version,
            "6.0.0-99-amd64",
            "filesystem.squashfs",
        ],
    )
    .await;
}

/// The same for an initrd that carries modules, none of them the kernel's.
#[tokio::test]
async fn kernel_without_modules_in_the_initrd_is_refused() {
    use repack_initrd::Codec;
    use repack_initrd::testing::Newc;

    let initrd = Newc::new()
        .dir("usr")
        .dir("usr/lib")
        .dir("usr/lib/modules")
        .dir("usr/lib/modules/5.10.0-1-amd64")
        .trailer();
    let initrd = Codec::Gzip.compress(&initrd).unwrap();
    let work = tempfile::tempdir().unwrap();
    let iso = repack_e2e::live_iso_with_initrd(work.path(), &initrd);
    assert_refused(
        &iso,
        "kernel-mismatch",
        &["initrd", "5.10.0-1-amd64", &debian_live().kernel_version],
    )
    .await;
}

/// A JSON time as every consumer parses it: RFC 3339, UTC, `Z` (`2026-12-03T07:46:04.047216Z`).
pub(crate) fn assert_rfc3339_utc(value: &serde_json::Value) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"));
    let parsed = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|error| panic!("`{text}` is not RFC 3339: {error}"));
    assert!(text.ends_with('Z') && text.contains('T'), "{text}");
    assert_eq!(parsed.offset(), time::UtcOffset::UTC, "{text}");
}

/// A menu that cannot be rendered after the catalogue made the release current is reported
/// as what it is: published, with the menu left as it was, never "nothing was published".
#[tokio::test]
async fn a_menu_failure_after_publishing_says_the_release_is_published() {
    let fixture = debian_live();
    let env = Env::new(0).await;
    env.serve_release(
        "12.10.0",
        Served::file(&fixture.iso),
        &sha256_file(&fixture.iso),
    );
    // The shipped recipe with a display name iPXE cannot show safely.
    let recipes = tempfile::tempdir().unwrap();
    let shipped =
        std::fs::read_to_string(repack_testkit::workspace_root().join("recipes/debian-live.toml"))
            .unwrap();
    let renamed = shipped.replace(
        "name = \"Debian Live (standard)\"",
        "name = \"Debian ${net0/ip}\"",
    );
    assert_ne!(renamed, shipped);
    std::fs::write(recipes.path().join("debian-live.toml"), renamed).unwrap();
    let run = env
        .repack_with_env(
            &["run", "debian-live"],
            &[("REPACK_RECIPE_DIRS", recipes.path().to_str().unwrap())],
        )
        .await;
    run.assert_failure_mentions(&[
        "menu-after-publish",
        "is published and current",
        "menu.ipxe could not be regenerated",
    ]);
    assert!(
        !run.error_lines().contains("nothing was published"),
        "{}",
        run.error_lines()
    );
    let catalog = env.catalog().await;
    assert!(
        catalog
            .current("debian-live", Arch::X86_64)
            .await
            .unwrap()
            .is_some(),
        "the release is current"
    );
    assert_check_failed(&env, "menu-after-publish").await;
}
