//! `repack recipes check`: recipes that do not parse, and pinned keys missing from every key
//! directory, are reported by recipe with exit code 1; a recipe whose keys are all at hand is
//! `ok`.

use std::path::Path;
use std::process::{Command, Output};

/// The Arch release key shipped in `keys/` (its file name carries the fingerprint).
const ARCH_KEY: &str = "3E80CA1A8B89F69CBA57D98A76A5EF9054449A5C";
/// Ubuntu's CD signing key: pinned by Ubuntu recipes, supplied by the operator.
const UBUNTU_KEY: &str = "843938DF228D22F7B3742BC0D94AA3F0EFE21092";

fn recipe(id: &str, key: &str) -> String {
    format!(
        r#"id = "{id}"
name = "Test"
os = "test"
arch = "x86_64"
schedule = "0 4 * * *"
boot = "archiso"

[watch]
kind = "checksums"
url = "https://upstream.invalid/iso/sha256sums.txt"
pattern = '^archlinux-(?P<version>[0-9.]+)-x86_64\.iso$'
signature = "{{name}}.sig"
keys = ["{key}"]

[iso]
kernel = "arch/boot/x86_64/vmlinuz-linux"
initrd = "arch/boot/x86_64/initramfs-linux.img"
rootfs = ["arch/x86_64/airootfs.sfs"]
"#
    )
}

fn check(recipes: &Path, keys: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_repack"))
        .args(["recipes", "check", "--json"])
        .args(args)
        .env("REPACK_RECIPE_DIRS", recipes)
        .env("REPACK_KEY_DIRS", keys)
        // No configuration file: the defaults and these variables.
        .env("REPACK_CONFIG", "/dev/null")
        .output()
        .unwrap()
}

#[test]
fn names_the_missing_keys_and_passes_recipes_whose_keys_are_at_hand() {
    let dir = tempfile::tempdir().unwrap();
    let (recipes, keys) = (dir.path().join("recipes"), dir.path().join("keys"));
    std::fs::create_dir_all(&recipes).unwrap();
    std::fs::create_dir_all(&keys).unwrap();
    std::fs::write(
        recipes.join("arch-live.toml"),
        recipe("arch-live", ARCH_KEY),
    )
    .unwrap();
    std::fs::write(
        recipes.join("ubuntu-24.04-live.toml"),
        recipe("ubuntu-24.04-live", UBUNTU_KEY),
    )
    .unwrap();
    let shipped = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../keys"))
        .unwrap()
        .filter_map(Result::ok)
        .find(|entry| entry.file_name().to_string_lossy().contains(ARCH_KEY))
        .expect("the Arch key ships in keys/");
    std::fs::copy(shipped.path(), keys.join(shipped.file_name())).unwrap();

    let output = check(&recipes, &keys, &["arch-live", "ubuntu-24.04-live"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let reports: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(reports[0]["id"], "arch-live");
    assert_eq!(reports[0]["problems"], serde_json::json!([]));
    assert_eq!(reports[1]["id"], "ubuntu-24.04-live");
    assert_eq!(reports[1]["missing_keys"], serde_json::json!([UBUNTU_KEY]));
    let problem = reports[1]["problems"][0].as_str().unwrap();
    assert!(
        problem.contains(UBUNTU_KEY) && problem.contains(&keys.display().to_string()),
        "{problem}"
    );

    // Only the recipe whose key is at hand: exit 0.
    let output = check(&recipes, &keys, &["arch-live"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}

#[test]
fn a_broken_recipe_is_reported_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let recipes = dir.path().to_owned();
    std::fs::write(
        recipes.join("typo.toml"),
        recipe("typo", ARCH_KEY).replace("pattern =", "patern ="),
    )
    .unwrap();
    let output = check(&recipes, &recipes, &["typo"]);
    assert_eq!(output.status.code(), Some(1));
    let reports: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let problem = reports[0]["problems"][0].as_str().unwrap();
    assert!(problem.contains("patern"), "{problem}");
}
