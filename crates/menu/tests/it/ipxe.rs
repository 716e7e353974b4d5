use crate::script_rules;
use crate::support::{self, entry, options, two_builds};
use repack_core::Arch;
use repack_menu::{MenuOptions, render_ipxe};
use std::time::Duration;

#[test]
fn menu_with_two_arches() {
    let script = render_ipxe(&two_builds(), &options());
    insta::assert_snapshot!("two_arches", script);
    let parsed = script_rules::check(&script);
    parsed.check_targets();
    assert_eq!(
        parsed.items(),
        [
            "debian-live-x86_64",
            "debian-live-arm64",
            "repack-shell",
            "repack-exit"
        ]
    );
}

#[test]
fn empty_menu_is_a_valid_script_that_says_so() {
    let script = render_ipxe(&[], &options());
    insta::assert_snapshot!("empty", script);
    let parsed = script_rules::check(&script);
    parsed.check_targets();
    assert!(script.contains("No live systems have been published yet."));
    assert_eq!(parsed.items(), ["repack-shell", "repack-exit"]);
}

#[test]
fn kernel_line_names_the_initrd_and_substitutes_the_base() {
    let script = render_ipxe(&two_builds(), &options());
    let parsed = script_rules::check(&script);
    let kernels: Vec<&Vec<String>> = parsed.named("kernel").collect();
    assert_eq!(kernels.len(), 2);
    let tags: Vec<String> = [Arch::X86_64, Arch::Arm64]
        .into_iter()
        .map(|arch| support::manifest("debian-live", arch, "12.8.0").tag)
        .collect();
    assert_ne!(tags[0], tags[1], "each arch boots its own directory");
    // Menu order: x86_64 first, then arm64 (see menu_with_two_arches).
    for (kernel, tag) in kernels.into_iter().zip(&tags) {
        let dir = format!("${{repack-base}}/debian-live/{tag}");
        assert_eq!(kernel[1], format!("{dir}/vmlinuz"));
        assert_eq!(
            kernel[2], "initrd=initrd",
            "EFI needs initrd=<name> on the kernel line"
        );
        assert_eq!(
            kernel[3..].join(" "),
            format!("boot=live components fetch={dir}/filesystem.squashfs ${{repack-args}}")
        );
    }
    for (initrd, tag) in parsed.named("initrd").zip(&tags) {
        assert_eq!(
            initrd[1..3],
            ["--name", "initrd"],
            "image name matches initrd="
        );
        assert_eq!(
            initrd[3],
            format!("${{repack-base}}/debian-live/{tag}/initrd")
        );
    }
    assert!(
        script.contains("isset ${repack-base} || set repack-base http://boot.example/repack\n")
    );
}

#[test]
fn every_kernel_line_ends_with_the_operator_args() {
    let script = render_ipxe(&two_builds(), &options());
    let parsed = script_rules::check(&script);
    let kernels: Vec<&Vec<String>> = parsed.named("kernel").collect();
    assert_eq!(kernels.len(), 2);
    for kernel in kernels {
        assert_eq!(
            kernel.last().map(String::as_str),
            Some("${repack-args}"),
            "{kernel:?}"
        );
    }
    // Documented next to the other settings an operator may preset.
    assert!(script.contains("\n#   repack-args "), "{script}");
    // Nothing sets it: unset expands to no arguments at all.
    assert!(!script.contains("set repack-args"), "{script}");
}

#[test]
fn items_are_shown_only_for_the_machines_arch() {
    let script = render_ipxe(&two_builds(), &options());
    // x86_64 also for 32-bit iPXE on a 64-bit CPU; arm64 for arm64; others see none.
    assert!(script.contains("iseq ${buildarch} x86_64 && set repack-arch x86_64 ||\n"));
    assert!(
        script.contains("iseq ${buildarch} i386 && cpuid --ext 29 && set repack-arch x86_64 ||\n")
    );
    assert!(script.contains("iseq ${buildarch} arm64 && set repack-arch arm64 ||\n"));
    // Each build item line is guarded by its arch.
    for line in script
        .lines()
        .filter(|l| l.contains("&& item debian-live-"))
    {
        let arch = if line.contains("item debian-live-x86_64") {
            "x86_64"
        } else {
            "arm64"
        };
        assert!(
            line.starts_with(&format!("iseq ${{repack-arch}} {arch} && ")),
            "{line}"
        );
        assert!(
            line.ends_with(" ||"),
            "a hidden item must not stop the script: {line}"
        );
        assert!(line.contains("needs 3 GiB RAM"), "{line}");
    }
}

#[test]
fn preset_target_jumps_to_its_item() {
    let script = render_ipxe(&two_builds(), &options());
    assert!(script.contains(
        "isset ${repack-target} && goto repack-item-${repack-target}-${repack-arch} ||\n"
    ));
    assert!(script.contains("isset ${repack-target} && goto repack-item-${repack-target} ||\n"));
    // The jump comes before the menu is shown.
    let jump = script.find("goto repack-item-${repack-target}").unwrap();
    assert!(jump < script.find(":repack-menu").unwrap());
}

#[test]
fn entries_are_grouped_by_os_and_duplicates_dropped() {
    let mut entries = vec![
        entry(
            "ubuntu-live",
            "Ubuntu Desktop",
            "ubuntu",
            Arch::X86_64,
            "24.04.1",
        ),
        entry(
            "debian-live",
            "Debian Live",
            "debian",
            Arch::X86_64,
            "12.8.0",
        ),
        entry("kali-live", "Kali Live", "debian", Arch::X86_64, "2024.4"),
    ];
    entries.push(entries[1].clone());
    let script = render_ipxe(&entries, &options());
    let parsed = script_rules::check(&script);
    parsed.check_targets();
    assert_eq!(
        parsed.items(),
        [
            "debian-live-x86_64",
            "kali-live-x86_64",
            "ubuntu-live-x86_64",
            "repack-shell",
            "repack-exit"
        ]
    );
    let gaps: Vec<String> = parsed
        .named("item")
        .filter(|c| c.iter().any(|w| w == "--gap") && c.len() > 2)
        .map(|c| c[3..].join(" "))
        .collect();
    assert_eq!(gaps[..2], ["debian", "ubuntu"]);
    assert!(script.contains("No live systems are published for arm64."));
}

#[test]
fn options_title_timeout_and_default() {
    let options = MenuOptions::new("http://${next-server}/repack/")
        .unwrap()
        .with_title("Homelab live systems")
        .unwrap()
        .with_timeout(Duration::from_secs(10))
        .with_default_recipe("debian-live")
        .unwrap();
    assert_eq!(options.base_url(), "http://${next-server}/repack");
    let script = render_ipxe(&two_builds(), &options);
    assert!(script.contains("menu -- Homelab live systems\n"));
    assert!(script.contains(
        "choose --timeout 10000 --default debian-live-${repack-arch} repack-choice || goto repack-item-repack-exit\n"
    ));
    assert!(script.contains("set repack-base http://${next-server}/repack\n"));
}

#[test]
fn rendering_is_deterministic() {
    let entries = two_builds();
    let reversed: Vec<_> = entries.iter().rev().cloned().collect();
    assert_eq!(
        render_ipxe(&entries, &support::options()),
        render_ipxe(&reversed, &support::options())
    );
}

#[test]
fn a_recipe_id_with_dots_gets_an_item_that_goto_reaches() {
    let entries = vec![entry(
        "ubuntu-24.04-live",
        "Ubuntu 24.04 LTS (desktop)",
        "ubuntu",
        Arch::X86_64,
        "24.04.3",
    )];
    let script = render_ipxe(&entries, &options());
    let parsed = script_rules::check(&script);
    parsed.check_targets();
    assert_eq!(
        parsed.items(),
        ["ubuntu-24.04-live-x86_64", "repack-shell", "repack-exit"]
    );
    assert!(
        script.contains(":repack-item-ubuntu-24.04-live-x86_64\n"),
        "{script}"
    );
}
