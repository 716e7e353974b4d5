//! `repack initrd ls|cat|append|lint` as a user runs them: exit codes, what goes to stdout,
//! and that `append` writes the patched image whole or not at all.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use repack_initrd::Codec;
use repack_initrd::testing::{Image, Newc};

fn repack(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_repack"))
        .args(args)
        .output()
        .expect("run repack")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// An early microcode archive and a zstd main archive with an ORDER file.
fn base(dir: &Path) -> PathBuf {
    let early = Newc::new()
        .dir("kernel")
        .dir("kernel/x86")
        .dir("kernel/x86/microcode")
        .file("kernel/x86/microcode/GenuineIntel.bin", &[7; 64])
        .trailer();
    let main = Newc::new()
        .dir("scripts")
        .dir("scripts/init-top")
        .file("scripts/init-top/ORDER", b"/scripts/init-top/udev\n")
        .trailer();
    let mut img = Image::new();
    img.newc(&early).member(Codec::Zstd, &main);
    let path = dir.join("initrd.img");
    std::fs::write(&path, &img.bytes).unwrap();
    path
}

fn hook(dir: &Path) -> PathBuf {
    let path = dir.join("hook.sh");
    std::fs::write(&path, "#!/bin/sh\necho hook\n").unwrap();
    path
}

#[test]
fn ls_cat_and_lint_read_an_image() {
    let tmp = tempfile::tempdir().unwrap();
    let img = base(tmp.path());
    let img = img.to_str().unwrap();

    let ls = repack(&["initrd", "ls", img]);
    assert!(ls.status.success(), "{}", text(&ls.stderr));
    let listing = text(&ls.stdout);
    assert!(listing.contains("scripts/init-top/ORDER"), "{listing}");
    assert!(
        listing.contains("kernel/x86/microcode/GenuineIntel.bin"),
        "{listing}"
    );

    let json = repack(&["initrd", "ls", "--json", img]);
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).expect("ls --json");
    assert_eq!(
        parsed["segments"].as_array().map(Vec::len),
        Some(2),
        "{parsed}"
    );

    let cat = repack(&["initrd", "cat", img, "/scripts/init-top/ORDER"]);
    assert!(cat.status.success());
    assert_eq!(cat.stdout, b"/scripts/init-top/udev\n");

    let lint = repack(&["initrd", "lint", "--json", img]);
    assert!(lint.status.success(), "{}", text(&lint.stdout));
    let parsed: serde_json::Value = serde_json::from_slice(&lint.stdout).unwrap();
    assert_eq!(parsed["findings"], serde_json::json!([]));
}

#[test]
fn append_writes_a_new_image_and_keeps_the_base() {
    let tmp = tempfile::tempdir().unwrap();
    let img = base(tmp.path());
    let before = std::fs::read(&img).unwrap();
    let hook = hook(tmp.path());
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = tmp.path().join("patched.img");
    let spec = format!("{}:scripts/init-top/99hook", hook.display());
    let run = repack(&[
        "initrd",
        "append",
        img.to_str().unwrap(),
        "--file",
        &spec,
        "--codec",
        "zstd",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert_eq!(
        std::fs::read(&img).unwrap(),
        before,
        "the base is untouched"
    );
    let patched = std::fs::read(&out).unwrap();
    assert_eq!(&patched[..before.len()], &before[..]);
    let cat = repack(&[
        "initrd",
        "cat",
        out.to_str().unwrap(),
        "scripts/init-top/99hook",
    ]);
    assert_eq!(cat.stdout, b"#!/bin/sh\necho hook\n");
    let ls = text(&repack(&["initrd", "ls", out.to_str().unwrap()]).stdout);
    assert!(
        ls.contains("-rwxr-xr-x"),
        "an executable source is added as 755: {ls}"
    );
    assert!(
        repack(&["initrd", "lint", out.to_str().unwrap()])
            .status
            .success()
    );
    // No temporary file is left beside the output.
    let names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn append_in_place_adds_only_the_overlay() {
    let tmp = tempfile::tempdir().unwrap();
    let img = base(tmp.path());
    let before = std::fs::read(&img).unwrap();
    let hook = hook(tmp.path());
    let spec = format!("{}:scripts/init-top/99hook:700", hook.display());
    let run = repack(&[
        "initrd",
        "append",
        "--in-place",
        img.to_str().unwrap(),
        "--file",
        &spec,
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let after = std::fs::read(&img).unwrap();
    assert_eq!(&after[..before.len()], &before[..]);
    assert!(after.len() > before.len());
    let cat = repack(&[
        "initrd",
        "cat",
        img.to_str().unwrap(),
        "scripts/init-top/99hook",
    ]);
    assert_eq!(cat.stdout, b"#!/bin/sh\necho hook\n");
    let ls = text(&repack(&["initrd", "ls", img.to_str().unwrap()]).stdout);
    assert!(ls.contains("-rwx------"), "{ls}");
}

#[test]
fn append_writes_nothing_when_the_result_would_fail_lint() {
    // Microcode inside the compressed member: the early loader never sees it, so lint
    // fails on the base and so on any image made from it.
    let tmp = tempfile::tempdir().unwrap();
    let main = Newc::new()
        .dir("kernel")
        .dir("kernel/x86")
        .dir("kernel/x86/microcode")
        .file("kernel/x86/microcode/GenuineIntel.bin", &[7; 64])
        .trailer();
    let mut image = Image::new();
    image.member(Codec::Gzip, &main);
    let img = tmp.path().join("late-ucode.img");
    std::fs::write(&img, &image.bytes).unwrap();
    let hook = hook(tmp.path());
    let spec = format!("{}:hook", hook.display());
    let out = tmp.path().join("out.img");

    let run = repack(&[
        "initrd",
        "append",
        img.to_str().unwrap(),
        "--file",
        &spec,
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(1));
    let stderr = text(&run.stderr);
    assert!(stderr.contains("microcode-not-early"), "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(!out.exists());

    let run = repack(&[
        "initrd",
        "append",
        "--in-place",
        img.to_str().unwrap(),
        "--file",
        &spec,
    ]);
    assert_eq!(run.status.code(), Some(1));
    assert_eq!(std::fs::read(&img).unwrap(), image.bytes);
}

#[test]
fn append_refuses_to_overwrite_its_input_and_needs_a_target() {
    let tmp = tempfile::tempdir().unwrap();
    let img = base(tmp.path());
    let before = std::fs::read(&img).unwrap();
    let hook = hook(tmp.path());
    let spec = format!("{}:hook", hook.display());
    let run = repack(&[
        "initrd",
        "append",
        img.to_str().unwrap(),
        "--file",
        &spec,
        "-o",
        img.to_str().unwrap(),
    ]);
    assert!(!run.status.success());
    assert!(
        text(&run.stderr).contains("--in-place"),
        "{}",
        text(&run.stderr)
    );
    assert_eq!(std::fs::read(&img).unwrap(), before);

    let run = repack(&["initrd", "append", img.to_str().unwrap(), "--file", &spec]);
    assert_eq!(run.status.code(), Some(2), "clap usage error");
    let run = repack(&[
        "initrd",
        "append",
        "--in-place",
        img.to_str().unwrap(),
        "--file",
        &spec,
        "-o",
        "x.img",
    ]);
    assert_eq!(run.status.code(), Some(2), "clap usage error");
}

#[test]
fn lint_exits_1_with_the_offset_and_rule() {
    let tmp = tempfile::tempdir().unwrap();
    let img = base(tmp.path());
    let mut bytes = std::fs::read(&img).unwrap();
    let garbage_at = bytes.len();
    bytes.extend_from_slice(b"garbage!");
    std::fs::write(&img, &bytes).unwrap();
    let run = repack(&["initrd", "lint", img.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1));
    let out = text(&run.stdout) + &text(&run.stderr);
    assert!(out.contains("unknown-magic"), "{out}");
    assert!(out.contains(&format!("byte {garbage_at}")), "{out}");
}

#[test]
fn append_rewraps_a_legacy_lz4_tail_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let main = Newc::new()
        .dir("scripts")
        .file("scripts/ORDER", b"/scripts/a\n")
        .trailer();
    let mut image = Image::new();
    image.member(Codec::Lz4Legacy, &main);
    let img = tmp.path().join("initrd.lz");
    std::fs::write(&img, &image.bytes).unwrap();
    let hook = hook(tmp.path());
    let spec = format!("{}:scripts/hook", hook.display());
    let out = tmp.path().join("out.img");
    let args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "initrd",
            "append",
            img.to_str().unwrap(),
            "--file",
            &spec,
            "-o",
            out.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |extra: &[&str]| {
        let a = args(extra);
        repack(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };

    let refused = run(&[]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("--rewrap-lz4"),
        "{}",
        text(&refused.stderr)
    );
    assert!(!out.exists());

    let done = run(&["--rewrap-lz4"]);
    assert!(done.status.success(), "{}", text(&done.stderr));
    assert!(
        text(&done.stderr).contains("re-wrapped as gzip"),
        "{}",
        text(&done.stderr)
    );
    assert!(
        repack(&["initrd", "lint", out.to_str().unwrap()])
            .status
            .success()
    );
    let cat = repack(&["initrd", "cat", out.to_str().unwrap(), "scripts/ORDER"]);
    assert_eq!(cat.stdout, b"/scripts/a\n");
    let cat = repack(&["initrd", "cat", out.to_str().unwrap(), "scripts/hook"]);
    assert_eq!(cat.stdout, b"#!/bin/sh\necho hook\n");
    let json = repack(&["initrd", "ls", "--json", out.to_str().unwrap()]);
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let kinds = parsed["segments"].to_string();
    assert!(!kinds.contains("lz4"), "{kinds}");
    std::fs::remove_file(&out).unwrap();

    let zstd = run(&["--rewrap-lz4=zstd"]);
    assert!(zstd.status.success(), "{}", text(&zstd.stderr));
    assert!(text(&zstd.stderr).contains("re-wrapped as zstd"));
}

/// Issue 14, item 6: `lint` states what an image unpacks to (human and `--json`), and flags
/// a rootfs past the cap with the member, offset and entry where it passes it.
#[test]
fn lint_states_the_unpacked_size_and_flags_a_rootfs_past_the_cap() {
    let tmp = tempfile::tempdir().unwrap();
    let img = base(tmp.path());
    let img = img.to_str().unwrap();

    let clean = repack(&["initrd", "lint", "--json", img]);
    assert!(clean.status.success(), "{}", text(&clean.stderr));
    let parsed: serde_json::Value = serde_json::from_slice(&clean.stdout).unwrap();
    // GenuineIntel.bin (64 bytes) and ORDER (23 bytes) in 5 directories: two files of one
    // page each, 1 KiB per inode.
    let u = &parsed["unpacked"];
    assert_eq!(
        (
            &u["files"],
            &u["file_bytes"],
            &u["inodes"],
            &u["resident_bytes"],
            &u["peak_bytes"],
            &u["complete"]
        ),
        (
            &serde_json::json!(2),
            &serde_json::json!(87),
            &serde_json::json!(7),
            &serde_json::json!(7 * 1024 + 2 * 4096),
            &serde_json::json!(7 * 1024 + 2 * 4096),
            &serde_json::json!(true)
        ),
        "{parsed}"
    );
    assert!(u["stream_bytes"].as_u64().unwrap() > 87, "{parsed}");
    let human = repack(&["initrd", "lint", img]);
    assert!(human.status.success());
    let stderr = text(&human.stderr);
    assert!(
        stderr.contains("unpacks to 87 B of data in 2 files (87 bytes), 7 inodes"),
        "{stderr}"
    );

    // With room for 8 KiB, the rootfs passes the cap at the first directory of the zstd
    // member (the early member fills exactly 8 KiB).
    let ls = repack(&["initrd", "ls", "--json", img]);
    let segments: serde_json::Value = serde_json::from_slice(&ls.stdout).unwrap();
    let zstd_at = &segments["segments"][1]["offset"];
    let capped = repack(&["initrd", "lint", "--json", "--max-unpacked", "8K", img]);
    assert_eq!(capped.status.code(), Some(1), "{}", text(&capped.stderr));
    let parsed: serde_json::Value = serde_json::from_slice(&capped.stdout).unwrap();
    let f = &parsed["findings"][0];
    assert_eq!(
        parsed["findings"].as_array().map(Vec::len),
        Some(1),
        "{parsed}"
    );
    assert_eq!(
        (&f["rule"], &f["segment"], &f["offset"], &f["path"]),
        (
            &serde_json::json!("unpacked-too-large"),
            &serde_json::json!(1),
            zstd_at,
            &serde_json::json!("scripts")
        ),
        "{parsed}"
    );
    let human = repack(&["initrd", "lint", "--max-unpacked", "8192", img]);
    assert_eq!(human.status.code(), Some(1));
    let stdout = text(&human.stdout);
    assert!(
        stdout.contains("[unpacked-too-large]")
            && stdout.contains("more than the cap of 8192 bytes"),
        "{stdout}"
    );

    let bad = repack(&["initrd", "lint", "--max-unpacked", "2g", img]);
    assert_eq!(bad.status.code(), Some(2), "clap usage error");
    assert!(
        text(&bad.stderr).contains("unknown unit"),
        "{}",
        text(&bad.stderr)
    );
}
