//! dracut: the cmdline hook and `/sbin/repackroot` inside the dracut reconstruction of
//! `inits/dracut.rs`, against a local server laid out as a repack release.

use crate::inits::assert_stopped_by_panic;
use crate::inits::dracut::{base, boot};
use crate::support::{Release, Run, blocking, release, serve, still_mounted_check};
use repack_boot::{BootInputs, BootPlan, family};
use repack_core::{BootFamilyKind, Sha256Digest};

fn plan(release: &Release) -> BootPlan {
    family(BootFamilyKind::Dracut)
        .unwrap()
        .plan(&BootInputs {
            rootfs: &release.files,
            side_files: &[],
            initrd_size: 1 << 20,
            extra_args: &[],
            base: &base(),
        })
        .unwrap()
}

fn run(plan: &BootPlan, base_url: &str) -> Run {
    boot(plan, base_url, &still_mounted_check(&["/run/repack"]))
}

#[tokio::test]
async fn livenet_root_becomes_repack_and_the_joined_image_reaches_dmsquash_live() {
    let release = release(&[("squashfs.img", 10_000)], 4096);
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, &url)).await;
    assert!(run.success, "{}\n{}", run.output, run.console);
    assert!(
        run.output.contains(&format!(
            "NETROOT repack:http://127.0.0.1:{port}/rel/squashfs.img"
        )),
        "{}",
        run.output
    );
    assert!(!run.output.contains("LIVENETROOT RAN"));
    let expected = format!(
        "DMSQUASH-LIVE-ROOT {}  /run/repack/squashfs.img",
        Sha256Digest::of(&release.originals[0].1)
    );
    // The second interface finds the work done and hands nothing over twice.
    assert_eq!(
        run.output.matches("DMSQUASH-LIVE-ROOT").count(),
        1,
        "{}",
        run.output
    );
    assert!(run.output.contains(&expected), "{}", run.output);
    assert!(run.repack_lines().is_empty(), "{}", run.console);
}

#[tokio::test]
async fn follows_redirects() {
    let release = release(&[("squashfs.img", 5_000)], 4096);
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/moved");
    let run = blocking(move || run(&plan, &url)).await;
    assert!(run.success, "{}\n{}", run.output, run.console);
    assert!(run.output.contains("DMSQUASH-LIVE-ROOT"), "{}", run.output);
}

#[tokio::test]
async fn corrupted_part_prints_its_line_and_panics_before_dracut_gives_up() {
    let release = release(&[("squashfs.img", 10_000)], 4096);
    release.corrupt("squashfs.img.part2");
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, &url)).await;
    assert_stopped_by_panic(&run);
    assert!(!run.output.contains("HANDLER STATUS"), "{}", run.output);
    assert!(!run.output.contains("DMSQUASH-LIVE-ROOT"), "{}", run.output);
    let lines = run.repack_lines();
    assert_eq!(lines.len(), 2, "{}", run.console);
    assert!(
        lines[0].starts_with("repack: sha256 mismatch (got "),
        "{}",
        lines[0]
    );
    assert!(lines[0].ends_with(&format!("http://127.0.0.1:{port}/rel/squashfs.img.part2")));
}

#[tokio::test]
async fn missing_part_is_a_download_failure() {
    let release = release(&[("squashfs.img", 10_000)], 4096);
    release.remove("squashfs.img.part3");
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, &url)).await;
    assert_stopped_by_panic(&run);
    assert_eq!(
        run.repack_lines()[0],
        format!("repack: download failed http://127.0.0.1:{port}/rel/squashfs.img.part3")
    );
}

#[tokio::test]
async fn without_the_handler_executable_dracut_finds_no_handler() {
    // The reconstruction enforces netroot.sh's rule: the handler is an executable in PATH.
    let release = release(&[("squashfs.img", 5_000)], 4096);
    let mut plan = plan(&release);
    let handler = plan
        .overlay
        .iter_mut()
        .find(|file| file.path == repack_boot::dracut::HANDLER_PATH)
        .unwrap();
    assert_eq!(handler.mode, 0o755, "dracut executes the netroot handler");
    handler.mode = 0o644;
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, &url)).await;
    assert!(!run.success);
    assert!(!run.output.contains("DMSQUASH-LIVE-ROOT"), "{}", run.output);
    assert!(run.output.contains("EMERGENCY SHELL"), "{}", run.output);
}

#[tokio::test]
async fn a_cmdline_hook_not_named_sh_is_never_sourced() {
    // source_all only takes `*.sh`: the hook's name must end so, or livenet boots unchecked.
    let release = release(&[("squashfs.img", 5_000)], 4096);
    let mut plan = plan(&release);
    let hook = plan
        .overlay
        .iter_mut()
        .find(|file| file.path.ends_with(repack_boot::dracut::CMDLINE_HOOK_NAME))
        .unwrap();
    assert!(hook.path.ends_with(".sh"));
    hook.path = hook.path.trim_end_matches(".sh").to_owned();
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, &url)).await;
    assert!(run.output.contains("LIVENETROOT RAN"), "{}", run.output);
}
