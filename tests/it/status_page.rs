//! The status page of `repack serve` as a browser shows it: a catalogue with a current, a
//! failing and a stale recipe (and one never published) is rendered by headless Chromium
//! (Debian's package); the rendered DOM has each row with its state and reason, and the
//! screenshot is a real image. `REPACK_UPDATE_DOCS=1` copies it to docs/status-page.png.

use repack_catalog::{CheckOutcome, NewBuild, SeenRelease};
use repack_core::{
    Arch, BootFamilyKind, BuildKey, FORMAT_VERSION, FileRole, Manifest, ManifestFile, ManifestPart,
    Sha256Digest, SourceIso,
};
use repack_e2e::Env;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use time::{Duration, OffsetDateTime};

fn file(name: &str, role: FileRole, size: u64) -> ManifestFile {
    let sha256 = Sha256Digest::of(name.as_bytes());
    let part = |name: String, size| ManifestPart {
        name,
        size,
        sha256,
        url: None,
    };
    let parts = if size > 2_000_000_000 {
        vec![
            part(name.to_owned(), 2_000_000_000),
            part(format!("{name}.part2"), size - 2_000_000_000),
        ]
    } else {
        vec![part(name.to_owned(), size)]
    };
    ManifestFile {
        name: name.to_owned(),
        role,
        size,
        sha256: (parts.len() == 1).then_some(sha256),
        parts,
    }
}

fn manifest(
    recipe: &str,
    name: &str,
    os: &str,
    version: &str,
    rootfs: u64,
    ram_mib: u64,
) -> Manifest {
    let iso_sha256 = Sha256Digest::of(format!("{recipe} {version}").as_bytes());
    let recipe_hash = Sha256Digest::of(recipe.as_bytes());
    let key = BuildKey::new(iso_sha256, recipe_hash);
    Manifest {
        format_version: FORMAT_VERSION,
        recipe: recipe.to_owned(),
        name: name.to_owned(),
        os: os.to_owned(),
        recipe_hash,
        build_key: key.id(),
        version: version.to_owned(),
        arch: Arch::X86_64,
        tag: key.tag(version),
        boot_family: BootFamilyKind::Casper,
        cmdline: "boot=casper".to_owned(),
        ram_mib,
        source: SourceIso {
            url: format!("https://releases.example/{recipe}-{version}.iso"),
            sha256: iso_sha256,
            size: rootfs + 200_000_000,
        },
        files: vec![
            file("vmlinuz", FileRole::Kernel, 15_000_000),
            file("initrd", FileRole::Initrd, 70_000_000),
            file("filesystem.squashfs", FileRole::Rootfs, rootfs),
        ],
        repack_version: "0.1.0".to_owned(),
    }
}

#[tokio::test]
async fn the_status_page_renders_current_failing_and_stale_recipes_in_chromium() {
    let env = Env::new(0).await;
    std::fs::create_dir_all(env.data_dir()).unwrap();
    let catalog = env.catalog().await;
    let now = OffsetDateTime::now_utc();
    let publish = |manifest: Manifest| {
        let location = format!("{}/{}", manifest.recipe, manifest.tag);
        NewBuild::new(manifest, location)
    };
    let seen = |recipe: &str, version: &str| SeenRelease {
        recipe: recipe.to_owned(),
        version: version.to_owned(),
        iso_url: format!("https://releases.example/{recipe}-{version}.iso"),
        iso_sha256: None,
        published_at: None,
    };
    // Current: Ubuntu 26.04, checked an hour ago.
    catalog
        .publish_build(&publish(manifest(
            "ubuntu-live",
            "Ubuntu 26.04 LTS",
            "ubuntu",
            "26.04",
            5_900_000_000,
            4096,
        )))
        .await
        .unwrap();
    catalog
        .record_release_seen_at(&seen("ubuntu-live", "26.04"), now - Duration::hours(30))
        .await
        .unwrap();
    catalog
        .record_check_at(
            "ubuntu-live",
            CheckOutcome::Success,
            now - Duration::hours(1),
        )
        .await
        .unwrap();
    // Failing: Arch's signature does not verify since this morning.
    catalog
        .publish_build(&publish(manifest(
            "arch-live",
            "Arch Linux",
            "arch",
            "2026.11.01",
            1_100_000_000,
            2048,
        )))
        .await
        .unwrap();
    catalog
        .record_check_at(
            "arch-live",
            CheckOutcome::Success,
            now - Duration::hours(26),
        )
        .await
        .unwrap();
    catalog
        .record_check_at(
            "arch-live",
            CheckOutcome::failure(
                "signature-unpinned-key",
                "archlinux-2026.12.01-x86_64.iso.sig: signed by key 0x1234ABCD5678EF90, which the recipe does not pin",
            ),
            now - Duration::hours(3),
        )
        .await
        .unwrap();
    // Stale: Manjaro's last good check was four days ago.
    catalog
        .publish_build(&publish(manifest(
            "manjaro-live",
            "Manjaro KDE",
            "manjaro",
            "25.0.10",
            3_900_000_000,
            4096,
        )))
        .await
        .unwrap();
    catalog
        .record_check_at(
            "manjaro-live",
            CheckOutcome::Success,
            now - Duration::days(4),
        )
        .await
        .unwrap();
    catalog.close().await;

    let mut serve = Command::new(repack_testkit::repack_binary())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(env.dir.path())
        .env("REPACK_CONFIG", env.dir.path().join("repack.toml"))
        .env("REPACK_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(serve.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("the listening line")
        .to_owned();

    let shots = tempfile::tempdir().unwrap();
    let png = shots.path().join("status.png");
    let chromium = |extra: &[&str]| {
        let mut args = vec![
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1280,560",
        ];
        args.extend_from_slice(extra);
        args.push(&url);
        Command::new("chromium")
            .args(&args)
            .env("HOME", shots.path())
            .output()
            .expect("chromium runs (Debian package `chromium`)")
    };
    let dom = chromium(&["--dump-dom"]);
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let shot = chromium(&[&format!("--screenshot={}", png.display())]);
    let _ = serve.kill();
    let _ = serve.wait();
    assert!(
        shot.status.success(),
        "{}",
        String::from_utf8_lossy(&shot.stderr)
    );

    let dom = String::from_utf8(dom.stdout).unwrap();
    let row = |recipe: &str| {
        let start = dom
            .find(&format!("id=\"recipe-{recipe}\""))
            .unwrap_or_else(|| panic!("no row for {recipe}:\n{dom}"));
        let end = dom[start..].find("</tr>").unwrap() + start;
        dom[start..end].to_owned()
    };
    assert!(
        row("ubuntu-live").contains("state current"),
        "{}",
        row("ubuntu-live")
    );
    assert!(
        row("ubuntu-live").contains("4096 MiB") && row("ubuntu-live").contains("6.0 GB"),
        "{}",
        row("ubuntu-live")
    );
    let arch = row("arch-live");
    assert!(
        arch.contains("state failing") && arch.contains("signature-unpinned-key"),
        "{arch}"
    );
    assert!(
        row("manjaro-live").contains("state stale"),
        "{}",
        row("manjaro-live")
    );
    assert!(
        row("manjaro-live").contains("last good check"),
        "{}",
        row("manjaro-live")
    );

    // A PNG of the requested size.
    let image = std::fs::read(&png).unwrap();
    assert_eq!(&image[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(image[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(image[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 560));
    assert!(image.len() > 20_000, "a blank page? {} bytes", image.len());
    if std::env::var_os("REPACK_UPDATE_DOCS").is_some() {
        let docs = repack_testkit::workspace_root().join("docs");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::copy(&png, docs.join("status-page.png")).unwrap();
    }
}
