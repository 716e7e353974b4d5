//! The trust chain end to end: the shipped `debian-live` recipe with a signature pinned to a
//! throwaway key made here by GnuPG (Debian's shape: an armoured detached `SHA256SUMS.sign`
//! over the list), and an ISO signed the way Arch and Manjaro sign theirs (`<iso>.sig`).
//! A list changed after signing, a signature by another key and a missing key are refused
//! naming the signature, the key and the URL, and nothing is published.

use repack_core::Arch;
use repack_e2e::{Env, LIVE_DIR, TestKey};
use repack_testkit::fixtures::{debian_live, sha256_file};
use repack_testkit::upstream::Served;
use std::path::{Path, PathBuf};

/// The shipped recipe with `[watch]` extended by a signature and the pinned key, in a recipe
/// directory searched before the shipped ones.
fn signed_recipe(dir: &Path, signature: &str, fingerprint: &str) -> PathBuf {
    let shipped =
        std::fs::read_to_string(repack_testkit::workspace_root().join("recipes/debian-live.toml"))
            .unwrap();
    let recipe = shipped.replace(
        "\n[iso]",
        &format!("signature = \"{signature}\"\nkeys = [\"{fingerprint}\"]\n\n[iso]"),
    );
    assert_ne!(recipe, shipped);
    let recipes = dir.join("recipes");
    std::fs::create_dir_all(&recipes).unwrap();
    std::fs::write(recipes.join("debian-live.toml"), recipe).unwrap();
    recipes
}

/// Serves the fixture ISO as 12.10.0 and returns the SHA256SUMS text listing it.
fn serve_iso(env: &Env) -> String {
    let iso = &debian_live().iso;
    let name = "debian-live-12.10.0-amd64-standard.iso";
    env.upstream
        .put(&format!("{LIVE_DIR}/{name}"), Served::file(iso));
    let decoy = "0".repeat(64);
    let sums = format!(
        "{decoy}  debian-live-12.9.1-amd64-standard.iso\n{}  {name}\n",
        sha256_file(iso)
    );
    env.upstream.put(
        &format!("{LIVE_DIR}/SHA256SUMS"),
        Served::text(sums.clone()),
    );
    sums
}

struct Setup {
    env: Env,
    _dir: tempfile::TempDir,
    vars: Vec<(String, String)>,
}

impl Setup {
    async fn new(signature: &str, pinned: &TestKey, exported: Option<&TestKey>) -> Setup {
        let env = Env::new(0).await;
        let dir = tempfile::tempdir().unwrap();
        let recipes = signed_recipe(dir.path(), signature, &pinned.fingerprint);
        let keys = dir.path().join("keys");
        std::fs::create_dir_all(&keys).unwrap();
        if let Some(signer) = exported {
            signer.export_to(&keys, &format!("test-{}", signer.fingerprint));
        }
        let recipe_dirs =
            std::env::join_paths([recipes, repack_testkit::workspace_root().join("recipes")])
                .unwrap();
        let vars = vec![
            (
                "REPACK_RECIPE_DIRS".to_owned(),
                recipe_dirs.to_string_lossy().into_owned(),
            ),
            ("REPACK_KEY_DIRS".to_owned(), keys.display().to_string()),
        ];
        Setup {
            env,
            _dir: dir,
            vars,
        }
    }

    async fn run(&self) -> repack_e2e::Run {
        let vars: Vec<(&str, &str)> = self
            .vars
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
            .collect();
        self.env
            .repack_with_env(&["run", "debian-live"], &vars)
            .await
    }
}

#[tokio::test]
async fn a_list_signed_by_the_pinned_key_publishes() {
    let signer = TestKey::new("debian");
    let setup = Setup::new("{list}.sign", &signer, Some(&signer)).await;
    let sums = serve_iso(&setup.env);
    let signature = signer.detach_sign(sums.as_bytes(), true);
    setup.env.upstream.put(
        &format!("{LIVE_DIR}/SHA256SUMS.sign"),
        Served::text(String::from_utf8(signature).unwrap()),
    );
    let run = setup.run().await;
    run.assert_success();
    assert!(
        run.stderr.contains("checksum list signature verified"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(&signer.fingerprint), "{}", run.stderr);
}

#[tokio::test]
async fn a_list_changed_after_signing_is_refused_naming_the_signature() {
    let signer = TestKey::new("debian");
    let setup = Setup::new("{list}.sign", &signer, Some(&signer)).await;
    let sums = serve_iso(&setup.env);
    let signature = signer.detach_sign(sums.as_bytes(), true);
    setup.env.upstream.put(
        &format!("{LIVE_DIR}/SHA256SUMS.sign"),
        Served::text(String::from_utf8(signature).unwrap()),
    );
    // One decoy digest changes after signing; the ISO's own line is untouched, so only the
    // signature can tell.
    let tampered = sums.replacen(&"0".repeat(64), &"1".repeat(64), 1);
    setup
        .env
        .upstream
        .put(&format!("{LIVE_DIR}/SHA256SUMS"), Served::text(tampered));
    let run = setup.run().await;
    run.assert_failure_mentions(&["SHA256SUMS.sign", "signature", "nothing was published"]);
    assert!(
        setup
            .env
            .upstream
            .requests_for(&format!(
                "{LIVE_DIR}/debian-live-12.10.0-amd64-standard.iso"
            ))
            .is_empty(),
        "the ISO was requested although its list's signature failed"
    );
    setup.env.assert_nothing_published().await;
    let status = setup.env.repack(&["status", "--json"]).await;
    let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let kind = crate::failures::status_row(&status, "debian-live")["check"]["last_error"]["kind"]
        .as_str()
        .unwrap();
    assert!(kind.starts_with("signature-"), "{kind}");
}

#[tokio::test]
async fn a_signature_by_an_unpinned_key_is_refused_naming_the_key() {
    let pinned = TestKey::new("debian");
    let other = TestKey::new("mallory");
    let setup = Setup::new("{list}.sign", &pinned, Some(&pinned)).await;
    let sums = serve_iso(&setup.env);
    // Binary (gpg --detach-sign without --armor), served from a file byte for byte.
    let signature = other.detach_sign(sums.as_bytes(), false);
    let file = setup._dir.path().join("SHA256SUMS.sign");
    std::fs::write(&file, signature).unwrap();
    setup
        .env
        .upstream
        .put(&format!("{LIVE_DIR}/SHA256SUMS.sign"), Served::file(&file));
    let run = setup.run().await;
    run.assert_failure_mentions(&["SHA256SUMS.sign", "nothing was published"]);
    assert!(
        run.error_lines().contains(&other.fingerprint[24..]),
        "the other key is named: {}",
        run.error_lines()
    );
    setup.env.assert_nothing_published().await;
}

#[tokio::test]
async fn a_pinned_key_missing_from_the_key_dirs_is_named() {
    let signer = TestKey::new("debian");
    let setup = Setup::new("{list}.sign", &signer, None).await;
    serve_iso(&setup.env);
    let run = setup.run().await;
    run.assert_failure_mentions(&[&signer.fingerprint, "nothing was published"]);
    setup.env.assert_nothing_published().await;
}

#[tokio::test]
async fn an_iso_signature_is_checked_as_it_downloads() {
    let signer = TestKey::new("arch");
    let setup = Setup::new("{name}.sig", &signer, Some(&signer)).await;
    serve_iso(&setup.env);
    let iso = std::fs::read(&debian_live().iso).unwrap();
    setup.env.upstream.put(
        &format!("{LIVE_DIR}/debian-live-12.10.0-amd64-standard.iso.sig"),
        Served::text(String::from_utf8(signer.detach_sign(&iso, true)).unwrap()),
    );
    let run = setup.run().await;
    run.assert_success();
    assert!(
        run.stderr.contains("ISO signature verified"),
        "{}",
        run.stderr
    );
    let catalog = setup.env.catalog().await;
    assert!(
        catalog
            .current("debian-live", Arch::X86_64)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn an_iso_whose_signature_covers_other_bytes_is_refused_and_leaves_the_cache() {
    let signer = TestKey::new("arch");
    let setup = Setup::new("{name}.sig", &signer, Some(&signer)).await;
    serve_iso(&setup.env);
    setup.env.upstream.put(
        &format!("{LIVE_DIR}/debian-live-12.10.0-amd64-standard.iso.sig"),
        Served::text(String::from_utf8(signer.detach_sign(b"another image", true)).unwrap()),
    );
    let run = setup.run().await;
    run.assert_failure_mentions(&[
        "debian-live-12.10.0-amd64-standard.iso.sig",
        "nothing was published",
    ]);
    setup.env.assert_nothing_published().await;
    let cached: Vec<_> = std::fs::read_dir(setup.env.data_dir().join("cache/iso"))
        .expect("the download cache exists: the ISO was downloaded")
        .filter_map(Result::ok)
        .filter(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.ends_with(".iso") || name.ends_with(".iso.hollow")
        })
        .collect();
    assert!(cached.is_empty(), "the unsigned ISO stayed in the cache");
}
