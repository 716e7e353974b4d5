//! The shipped recipes of the new feed shapes, each run end to end with `repack run <id>` on a
//! stand-in shaped like its upstream: the feed (index pages, checksum lists, download page,
//! build API), the file names, the signature format and the ISO layout copy
//! `shared/notes/upstreams.md` and the upstreams' own build code; what is assumed rather than
//! seen is marked where the fixture is built. A recipe that pins a key runs exactly as shipped
//! except for the pin, swapped for a throwaway key's ([`Env::with_recipe_override`]); URLs
//! reach the stand-in through the configuration's mirror rewrites.
//!
//! Each run asserts the version picked among decoys that would win if the recipe or the
//! shared policy were wrong, the published files byte for byte against the ISO's, the
//! manifest, the images baked into the hook's list, the menu entry, and that a second run
//! changes nothing.

use repack_core::{Arch, FileRole, Manifest, Sha256Digest};
use repack_e2e::{Env, TestKey, initrd_file, snapshot, stand_in_path};
use repack_testkit::feed::Reply;
use repack_testkit::fixtures::sha256_file;
use repack_testkit::shaped::{self, Shaped};
use repack_testkit::upstream::Served;
use std::path::{Path, PathBuf};

/// The Ubuntu CD Image Automatic Signing Key (2012), as `ubuntu-live` pins it.
const UBUNTU_KEY: &str = "843938DF228D22F7B3742BC0D94AA3F0EFE21092";
/// Arch's release engineer key, as `arch-live` pins it.
const ARCH_KEY: &str = "3E80CA1A8B89F69CBA57D98A76A5EF9054449A5C";
/// The index `ubuntu-live` and `ubuntu-24.04-live` walk.
const RELEASES: &str = "https://releases.ubuntu.com/";
/// The index `arch-live` walks.
const ARCH_ISO: &str = "https://geo.mirror.pkgbuild.com/iso/";
/// The page `manjaro-live` reads.
const MANJARO_PAGE: &str = "https://manjaro.org/products/download/x86";
/// The build API `pop-os-live` asks.
const POP_API: &str = "https://api.pop-os.org/builds/24.04/generic?arch=amd64";

/// A digest for a decoy that must never be downloaded (distinct per `n`).
fn decoy(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

/// What a published release must be.
struct Expected<'a> {
    recipe: &'a str,
    /// The recipe's display name, as the menu shows it.
    name: &'a str,
    version: &'a str,
    iso_url: &'a str,
    iso: &'a Shaped,
    family: &'a str,
    cmdline: &'a str,
    /// Paths in the ISO.
    kernel: &'a str,
    initrd: &'a str,
    /// Root images in the order the hook fetches them: published name, path in the ISO.
    rootfs: Vec<(&'a str, String)>,
    /// The family's side files: published name, path in the ISO.
    side: Vec<(&'a str, String)>,
}

/// Where and what was published.
struct Published {
    tag: String,
    release: PathBuf,
}

/// Checks the current build of `want.recipe` against `want`, file by file.
async fn assert_published(env: &Env, want: &Expected<'_>) -> Published {
    let catalog = env.catalog().await;
    let current = catalog
        .current(want.recipe, Arch::X86_64)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{} has no current build", want.recipe));
    assert_eq!(current.version, want.version, "the version picked");
    assert_eq!(catalog.builds(want.recipe).await.unwrap().len(), 1);
    catalog.close().await;
    assert_eq!(current.location, format!("{}/{}", want.recipe, current.tag));
    let release = env.output_dir().join(&current.location);

    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(release.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest, current.manifest);
    assert_eq!(manifest.recipe, want.recipe);
    assert_eq!(manifest.name, want.name);
    assert_eq!(manifest.version, want.version);
    assert_eq!(
        manifest.source.url, want.iso_url,
        "manifests keep upstream URLs"
    );
    assert_eq!(
        manifest.source.sha256.to_hex(),
        sha256_file(&want.iso.iso),
        "the ISO downloaded is the one served"
    );
    assert_eq!(manifest.boot_family.as_str(), want.family);
    assert_eq!(manifest.cmdline, want.cmdline);

    // Exactly the kernel, the initrd, the recipe's images and the family's side files, each
    // (but the initrd) the ISO's bytes; the patched initrd begins with the upstream's.
    let mut listed: Vec<(FileRole, String)> = manifest
        .files
        .iter()
        .map(|file| (file.role, file.name.clone()))
        .collect();
    listed.sort_by(|a, b| a.1.cmp(&b.1));
    let mut expected: Vec<(FileRole, String)> = vec![
        (FileRole::Kernel, "vmlinuz".to_owned()),
        (FileRole::Initrd, "initrd".to_owned()),
    ];
    expected.extend(
        want.rootfs
            .iter()
            .map(|(name, _)| (FileRole::Rootfs, name.to_string())),
    );
    expected.extend(
        want.side
            .iter()
            .map(|(name, _)| (FileRole::Side, name.to_string())),
    );
    expected.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(listed, expected, "the files of the release");
    let whole = |name: &str| -> Vec<u8> {
        let file = manifest
            .files
            .iter()
            .find(|file| file.name == name)
            .unwrap();
        let mut bytes = Vec::new();
        for part in &file.parts {
            let part_bytes = std::fs::read(release.join(&part.name)).unwrap();
            assert_eq!(part_bytes.len() as u64, part.size, "{}", part.name);
            assert_eq!(Sha256Digest::of(&part_bytes), part.sha256, "{}", part.name);
            bytes.extend(part_bytes);
        }
        let one_part = (file.parts.len() == 1).then(|| Sha256Digest::of(&bytes));
        assert_eq!(file.sha256, one_part, "{name}");
        bytes
    };
    assert!(whole("vmlinuz") == want.iso.bytes(want.kernel), "vmlinuz");
    assert!(
        whole("initrd").starts_with(want.iso.bytes(want.initrd)),
        "the upstream initrd's bytes are kept"
    );
    for (name, path) in want.rootfs.iter().chain(&want.side) {
        assert!(whole(name) == want.iso.bytes(path), "{name} is {path}");
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(&release)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut stored: Vec<String> = manifest.stored_names().map(str::to_owned).collect();
    stored.extend(["SHA256SUMS".to_owned(), "manifest.json".to_owned()]);
    stored.sort();
    assert_eq!(on_disk, stored, "nothing else is published");

    // The hook fetches exactly the images (then the side files) in order, as listed.
    let list = String::from_utf8(initrd_file(
        &release.join("initrd"),
        "etc/repack/rootfs.list",
    ))
    .unwrap();
    let baked: Vec<&str> = list
        .lines()
        .map(|line| line.split(' ').next().unwrap())
        .collect();
    let fetched: Vec<&str> = want
        .rootfs
        .iter()
        .chain(&want.side)
        .map(|(name, _)| *name)
        .collect();
    assert_eq!(baked, fetched, "the hook's list:\n{list}");
    for line in list.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let file = manifest.files.iter().find(|f| f.name == fields[0]).unwrap();
        let part = file.parts.iter().find(|p| p.name == fields[1]).unwrap();
        assert_eq!(fields[2], part.size.to_string(), "{line}");
        assert_eq!(fields[3], part.sha256.to_hex(), "{line}");
    }

    // The menu offers it with the family's command line.
    let menu = std::fs::read_to_string(env.output_dir().join("menu.ipxe")).unwrap();
    let shown = format!(" {} {} (x86_64, needs ", want.name, want.version);
    let item = menu
        .lines()
        .find(|line| line.contains(" && item ") && line.contains(&shown))
        .unwrap_or_else(|| panic!("no menu item shows `{shown}`:\n{menu}"));
    if !want.recipe.contains('.') {
        // iPXE labels take no `.`; how a dotted id becomes a label is the menu's business.
        assert!(
            item.contains(&format!(" && item {}-x86_64{shown}", want.recipe)),
            "{item}"
        );
    }
    let base = format!("${{repack-base}}/{}", current.location);
    let kernel = format!(
        "kernel {base}/vmlinuz initrd=initrd {} ${{repack-args}}",
        want.cmdline.replace("{base}", &base)
    );
    assert!(menu.contains(&kernel), "`{kernel}` in\n{menu}");
    assert!(
        menu.contains(&format!("initrd --name initrd {base}/initrd")),
        "{menu}"
    );
    Published {
        tag: current.tag,
        release,
    }
}

/// A second run finds nothing new: it says so, downloads nothing, changes nothing.
async fn assert_second_run_changes_nothing(env: &Env, want: &Expected<'_>, published: &Published) {
    let before = snapshot(env.dir.path());
    let downloads = env.requests_for_url(want.iso_url).len();
    let again = env.repack(&["run", want.recipe]).await;
    again.assert_success();
    assert_eq!(
        again.stdout,
        format!(
            "{}: nothing new upstream; {} is published as {}\n",
            want.recipe, want.version, published.tag
        )
    );
    assert_eq!(env.requests_for_url(want.iso_url).len(), downloads);
    let changed: Vec<_> = snapshot(env.dir.path())
        .into_iter()
        .filter(|entry| !before.contains(entry))
        .filter(|(path, _, _)| !path.to_string_lossy().contains("catalog.db"))
        .collect();
    assert!(changed.is_empty(), "the second run changed {changed:?}");
    let catalog = env.catalog().await;
    assert_eq!(catalog.builds(want.recipe).await.unwrap().len(), 1);
    catalog.close().await;
}

/// `repack watch <recipe> --json`: the newest upstream release it reports (nothing built).
async fn watch_newest(env: &Env, recipe: &str) -> serde_json::Value {
    let watched = env.repack(&["watch", recipe, "--json"]).await;
    watched.assert_success();
    let reports: serde_json::Value = serde_json::from_str(&watched.stdout).unwrap();
    assert_eq!(reports[0]["recipe"], recipe, "{reports}");
    assert_eq!(reports[0]["state"], "new", "{reports}");
    reports[0]["upstream"].clone()
}

/// Asserts that nothing at `urls` was requested.
fn assert_never_requested(env: &Env, urls: &[String]) {
    for url in urls {
        assert!(
            env.requests_for_url(url).is_empty(),
            "{url} was requested: {:?}",
            env.requests_for_url(url)
        );
    }
}

// ---------------------------------------------------------------------------------------
// Ubuntu: releases.ubuntu.com, SHA256SUMS + SHA256SUMS.gpg per release directory.

/// releases.ubuntu.com's index as Apache's autoindex renders it: ubuntu-cdimage's
/// SimpleReleasePublisher publishes into the codename directory and links each version to it
/// (`24.04 -> noble`, `24.04.3 -> noble`), so every release appears as versions and codename.
fn ubuntu_index() -> String {
    let mut rows = String::new();
    for dir in [
        "22.04", "22.04.5", "24.04", "24.04.3", "25.10", "26.04", "jammy", "noble", "questing",
        "resolute",
    ] {
        rows.push_str(&format!(
            "<tr><td valign=\"top\"><img src=\"/icons/folder.gif\" alt=\"[DIR]\"></td><td><a href=\"{dir}/\">{dir}/</a></td><td align=\"right\">2026-04-23 17:01  </td><td align=\"right\">  - </td><td>&nbsp;</td></tr>\n"
        ));
    }
    format!(
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 3.2 Final//EN\">\n<html>\n <head>\n  <title>Ubuntu Releases</title>\n </head>\n <body>\n<h1>Ubuntu Releases</h1>\n<table>\n<tr><th valign=\"top\"><img src=\"/icons/blank.gif\" alt=\"[ICO]\"></th><th><a href=\"?C=N;O=D\">Name</a></th><th><a href=\"?C=M;O=A\">Last modified</a></th><th><a href=\"?C=S;O=A\">Size</a></th><th><a href=\"?C=D;O=A\">Description</a></th></tr>\n{rows}<tr><td valign=\"top\"><img src=\"/icons/unknown.gif\" alt=\"[   ]\"></td><td><a href=\"favicon.ico\">favicon.ico</a></td><td align=\"right\">2019-03-25 10:12  </td><td align=\"right\">1.1K</td><td>&nbsp;</td></tr>\n</table>\n</body></html>\n"
    )
}

/// Serves `list` and its armoured detached signature by `key` in each of `dirs` (the same
/// directory under several names). ubuntu-cdimage signs with `gpg --armour --detach-sign`
/// (`lib/cdimage/sign.py`); its test data's `SHA256SUMS.gpg` is an armoured signature by
/// 843938DF228D22F7B3742BC0D94AA3F0EFE21092. Returns the signature.
fn serve_signed_ubuntu_list(env: &Env, key: &TestKey, dirs: &[&str], list: &str) -> Vec<u8> {
    let signature = key.detach_sign(list.as_bytes(), true);
    for dir in dirs {
        env.serve(
            &format!("{RELEASES}{dir}/SHA256SUMS"),
            Served::text(list.to_owned()),
        );
        env.serve_bytes(&format!("{RELEASES}{dir}/SHA256SUMS.gpg"), &signature);
    }
    signature
}

/// The 26.04 directory's SHA256SUMS (`sha256sum -b` lines, `<hash> *<name>`) with the desktop
/// ISO's digest `desktop` and decoys: the arm64 desktop image (Ubuntu publishes arm64 desktop
/// ISOs since 25.04; that it sits in this directory is assumed) and the server image.
fn ubuntu_26_04_list(desktop: &str) -> String {
    format!(
        "{desktop} *ubuntu-26.04-desktop-amd64.iso\n{} *ubuntu-26.04-desktop-arm64.iso\n{} *ubuntu-26.04-live-server-amd64.iso\n",
        decoy(1),
        decoy(2)
    )
}

/// The 24.04 directory's SHA256SUMS with the 24.04.3 desktop ISO's digest `desktop`, the
/// 24.04.2 one still beside it (assumed: older point releases linger), and the server image.
fn ubuntu_24_04_list(desktop: &str) -> String {
    format!(
        "{} *ubuntu-24.04.2-desktop-amd64.iso\n{desktop} *ubuntu-24.04.3-desktop-amd64.iso\n{} *ubuntu-24.04.3-live-server-amd64.iso\n",
        decoy(3),
        decoy(4)
    )
}

fn ubuntu_expected<'a>(
    recipe: &'a str,
    name: &'a str,
    version: &'a str,
    iso_url: &'a str,
    iso: &'a Shaped,
) -> Expected<'a> {
    Expected {
        recipe,
        name,
        version,
        iso_url,
        iso,
        family: "casper",
        cmdline: "boot=casper repack.base={base}/ ip=dhcp",
        kernel: "casper/vmlinuz",
        initrd: "casper/initrd",
        rootfs: shaped::UBUNTU_DESKTOP_LAYERS
            .iter()
            .map(|layer| (*layer, format!("casper/{layer}")))
            .collect(),
        side: Vec::new(),
    }
}

/// casper runs only what its premount ORDER names: the hook comes last, after the stock lines.
fn assert_casper_order_names_the_hook(release: &Path) {
    let order = String::from_utf8(initrd_file(
        &release.join("initrd"),
        "scripts/casper-premount/ORDER",
    ))
    .unwrap();
    assert!(
        order.starts_with("/scripts/casper-premount/10driver_updates \"$@\"\n"),
        "{order}"
    );
    assert!(
        order.ends_with(
            "/scripts/casper-premount/99repack \"$@\"\n[ -e /conf/param.conf ] && . /conf/param.conf\n"
        ),
        "{order}"
    );
}

struct UbuntuSetup {
    env: Env,
    _key: TestKey,
    iso: Shaped,
    _work: tempfile::TempDir,
}

/// `ubuntu-live` pinned to a fresh key, the releases index, the 24.04 and 26.04 directories
/// signed by that key, and the 26.04 desktop ISO.
async fn ubuntu_live_setup() -> UbuntuSetup {
    let work = tempfile::tempdir().unwrap();
    let iso = shaped::ubuntu_desktop(work.path(), "ubuntu-26.04-desktop-amd64.iso", "26.04", 0x26);
    let key = TestKey::new("ubuntu-cd");
    let env = Env::new(1).await;
    env.with_recipe_override("ubuntu-live", UBUNTU_KEY, &key.fingerprint);
    env.trust(&key);
    env.serve(RELEASES, Served::text(ubuntu_index()));
    serve_signed_ubuntu_list(
        &env,
        &key,
        &["26.04", "resolute"],
        &ubuntu_26_04_list(&sha256_file(&iso.iso)),
    );
    serve_signed_ubuntu_list(
        &env,
        &key,
        &["24.04", "24.04.3", "noble"],
        &ubuntu_24_04_list(&decoy(9)),
    );
    env.serve(
        &format!("{RELEASES}26.04/ubuntu-26.04-desktop-amd64.iso"),
        Served::file(&iso.iso),
    );
    UbuntuSetup {
        env,
        _key: key,
        iso,
        _work: work,
    }
}

#[tokio::test]
async fn ubuntu_live_publishes_the_26_04_desktop_layer_chain_from_a_signed_list() {
    let setup = ubuntu_live_setup().await;
    let env = &setup.env;
    let run = env.repack(&["run", "ubuntu-live"]).await;
    run.assert_success();
    assert!(
        run.stderr.contains("checksum list signature verified"),
        "{}",
        run.stderr
    );
    let iso_url = format!("{RELEASES}26.04/ubuntu-26.04-desktop-amd64.iso");
    let want = ubuntu_expected(
        "ubuntu-live",
        "Ubuntu 26.04 LTS Desktop",
        "26.04",
        &iso_url,
        &setup.iso,
    );
    let published = assert_published(env, &want).await;
    // The language and enhanced-secureboot layers the ISO carries are not published.
    for layer in shaped::UBUNTU_DESKTOP_OTHER_LAYERS {
        assert!(
            setup
                .iso
                .paths()
                .any(|path| path == format!("casper/{layer}"))
        );
        assert!(!published.release.join(layer).exists(), "{layer}");
    }
    assert_casper_order_names_the_hook(&published.release);
    // Only the newest 26.04 entry was read (not its codename alias), never a 24.04 list, and
    // no decoy was downloaded. The signature is asked for twice: the watcher checks that the
    // directory is ready (signed), the trust step fetches and verifies it.
    assert_eq!(
        env.requests_for_url(&format!("{RELEASES}26.04/SHA256SUMS.gpg"))
            .len(),
        2
    );
    assert_never_requested(
        env,
        &[
            format!("{RELEASES}resolute/SHA256SUMS"),
            format!("{RELEASES}24.04.3/SHA256SUMS"),
            format!("{RELEASES}24.04/SHA256SUMS"),
            format!("{RELEASES}26.04/ubuntu-26.04-desktop-arm64.iso"),
            format!("{RELEASES}26.04/ubuntu-26.04-live-server-amd64.iso"),
        ],
    );
    assert_second_run_changes_nothing(env, &want, &published).await;
}

#[tokio::test]
async fn ubuntu_live_refuses_a_list_changed_after_it_was_signed() {
    let setup = ubuntu_live_setup().await;
    let env = &setup.env;
    // One decoy digest changes after signing; the desktop ISO's own line is untouched, so
    // only the signature can tell.
    let list = ubuntu_26_04_list(&sha256_file(&setup.iso.iso));
    let tampered = list.replacen(&decoy(2), &decoy(7), 1);
    assert_ne!(tampered, list);
    env.serve(
        &format!("{RELEASES}26.04/SHA256SUMS"),
        Served::text(tampered),
    );
    let run = env.repack(&["run", "ubuntu-live"]).await;
    run.assert_failure_mentions(&["SHA256SUMS.gpg", "signature", "nothing was published"]);
    assert_never_requested(
        env,
        &[format!("{RELEASES}26.04/ubuntu-26.04-desktop-amd64.iso")],
    );
    env.assert_nothing_published_for("ubuntu-live").await;
}

#[tokio::test]
async fn ubuntu_live_offers_nothing_while_26_04_is_in_beta() {
    // During the beta the 26.04 directory holds only pre-release images (names as Ubuntu's
    // betas are spelled, `ubuntu-<version>-beta-desktop-<arch>.iso`; assumed, not seen).
    let env = Env::new(1).await;
    env.serve(RELEASES, Served::text(ubuntu_index()));
    let list = format!(
        "{} *ubuntu-26.04-beta-desktop-amd64.iso\n{} *ubuntu-26.04-beta-desktop-arm64.iso\n{} *ubuntu-26.04-beta-live-server-amd64.iso\n",
        decoy(1),
        decoy(2),
        decoy(3)
    );
    env.serve(&format!("{RELEASES}26.04/SHA256SUMS"), Served::text(list));
    // Signed (the watcher passes over a directory whose list is not signed yet); the
    // signature's bytes do not matter: nothing gets as far as checking it.
    env.serve_bytes(&format!("{RELEASES}26.04/SHA256SUMS.gpg"), b"signature");
    let run = env.repack(&["run", "ubuntu-live"]).await;
    run.assert_failure_mentions(&["2 listed", "2 pre-releases", "nothing was published"]);
    env.assert_nothing_published_for("ubuntu-live").await;
}

#[tokio::test]
async fn ubuntu_24_04_live_watches_the_newest_point_release_through_its_aliases() {
    // `24.04/`, `24.04.3/` and `noble/` are the same directory; the recipe reads only the
    // newest version directory (one ISO under two URLs would still be one release: same name,
    // same digest).
    let env = Env::new(1).await;
    env.serve(RELEASES, Served::text(ubuntu_index()));
    let list = ubuntu_24_04_list(&decoy(0x43));
    for dir in ["24.04", "24.04.3", "noble"] {
        env.serve(
            &format!("{RELEASES}{dir}/SHA256SUMS"),
            Served::text(list.clone()),
        );
        // Signed, so the directory is ready; `repack watch` checks no signature.
        env.serve_bytes(&format!("{RELEASES}{dir}/SHA256SUMS.gpg"), b"signature");
    }
    env.serve(
        &format!("{RELEASES}26.04/SHA256SUMS"),
        Served::text(ubuntu_26_04_list(&decoy(9))),
    );
    let upstream = watch_newest(&env, "ubuntu-24.04-live").await;
    assert_eq!(upstream["version"], "24.04.3");
    assert_eq!(
        upstream["iso_url"],
        format!("{RELEASES}24.04.3/ubuntu-24.04.3-desktop-amd64.iso")
    );
    assert_eq!(upstream["sha256"], decoy(0x43));
    assert_never_requested(
        &env,
        &[
            format!("{RELEASES}24.04/SHA256SUMS"),
            format!("{RELEASES}26.04/SHA256SUMS"),
        ],
    );
}

#[tokio::test]
async fn ubuntu_24_04_live_publishes_the_newest_point_release() {
    let work = tempfile::tempdir().unwrap();
    let iso = shaped::ubuntu_desktop(
        work.path(),
        "ubuntu-24.04.3-desktop-amd64.iso",
        "24.04.3",
        0x24,
    );
    let key = TestKey::new("ubuntu-cd");
    let env = Env::new(1).await;
    env.with_recipe_override("ubuntu-24.04-live", UBUNTU_KEY, &key.fingerprint);
    env.trust(&key);
    env.serve(RELEASES, Served::text(ubuntu_index()));
    // `24.04/`, `24.04.3/` and `noble/` are one directory; 26.04 is a newer series the
    // recipe must not take.
    serve_signed_ubuntu_list(
        &env,
        &key,
        &["24.04", "24.04.3", "noble"],
        &ubuntu_24_04_list(&sha256_file(&iso.iso)),
    );
    serve_signed_ubuntu_list(
        &env,
        &key,
        &["26.04", "resolute"],
        &ubuntu_26_04_list(&decoy(9)),
    );
    let iso_url = format!("{RELEASES}24.04.3/ubuntu-24.04.3-desktop-amd64.iso");
    env.serve(&iso_url, Served::file(&iso.iso));

    let run = env.repack(&["run", "ubuntu-24.04-live"]).await;
    run.assert_success();
    let want = ubuntu_expected(
        "ubuntu-24.04-live",
        "Ubuntu 24.04 LTS Desktop",
        "24.04.3",
        &iso_url,
        &iso,
    );
    let published = assert_published(&env, &want).await;
    assert_casper_order_names_the_hook(&published.release);
    assert_never_requested(
        &env,
        &[
            format!("{RELEASES}24.04/SHA256SUMS"),
            format!("{RELEASES}26.04/SHA256SUMS"),
            format!("{RELEASES}24.04.3/ubuntu-24.04.2-desktop-amd64.iso"),
        ],
    );
    assert_second_run_changes_nothing(&env, &want, &published).await;
}

// ---------------------------------------------------------------------------------------
// Arch: iso/<YYYY.MM.DD>/ on an Arch mirror, sha256sums.txt, <iso>.sig over the ISO.

/// An nginx autoindex page (Arch's mirrors list `iso/` this way; the exact server of
/// geo.mirror.pkgbuild.com is assumed).
fn nginx_index(path: &str, entries: &[&str]) -> String {
    let mut page = format!(
        "<html>\r\n<head><title>Index of {path}</title></head>\r\n<body>\r\n<h1>Index of {path}</h1><hr><pre><a href=\"../\">../</a>\r\n"
    );
    for entry in entries {
        page.push_str(&format!(
            "<a href=\"{entry}\">{entry}</a>{}01-Dec-2026 12:34                   -\r\n",
            " ".repeat(52usize.saturating_sub(entry.len()))
        ));
    }
    page.push_str("</pre><hr></body>\r\n</html>\r\n");
    page
}

/// The files of one Arch release directory, as its listing shows them.
fn arch_release_entries(date: &str) -> Vec<String> {
    vec![
        "arch/".to_owned(),
        format!("archlinux-{date}-x86_64.iso"),
        format!("archlinux-{date}-x86_64.iso.sig"),
        format!("archlinux-{date}-x86_64.iso.torrent"),
        format!("archlinux-bootstrap-{date}-x86_64.tar.zst"),
        format!("archlinux-bootstrap-{date}-x86_64.tar.zst.sig"),
        "archlinux-bootstrap-x86_64.tar.zst".to_owned(),
        "archlinux-bootstrap-x86_64.tar.zst.sig".to_owned(),
        "archlinux-x86_64.iso".to_owned(),
        "archlinux-x86_64.iso.sig".to_owned(),
        "b2sums.txt".to_owned(),
        "sha256sums.txt".to_owned(),
    ]
}

/// Serves Arch's `iso/` tree: `2026.10.01/`, `2026.11.01/` (decoys) and `2026.12.01/` with
/// `iso` as its ISO and `signature` as its `.sig`, plus `latest/`. Each `sha256sums.txt` also
/// lists the `archlinux-x86_64.iso` alias (same digest: it is a link to the dated ISO) and
/// the bootstrap tarballs.
fn serve_arch_mirror(env: &Env, iso: &Shaped, signature: &[u8]) {
    env.serve(
        ARCH_ISO,
        Served::text(nginx_index(
            "/iso/",
            &["2026.10.01/", "2026.11.01/", "2026.12.01/", "latest/"],
        )),
    );
    for (date, digest) in [
        ("2026.10.01", decoy(10)),
        ("2026.11.01", decoy(11)),
        ("2026.12.01", sha256_file(&iso.iso)),
    ] {
        let entries = arch_release_entries(date);
        let entries: Vec<&str> = entries.iter().map(String::as_str).collect();
        env.serve(
            &format!("{ARCH_ISO}{date}/"),
            Served::text(nginx_index(&format!("/iso/{date}/"), &entries)),
        );
        env.serve(
            &format!("{ARCH_ISO}{date}/sha256sums.txt"),
            Served::text(format!(
                "{digest}  archlinux-{date}-x86_64.iso\n{}  archlinux-bootstrap-{date}-x86_64.tar.zst\n{}  archlinux-bootstrap-x86_64.tar.zst\n{digest}  archlinux-x86_64.iso\n",
                decoy(20),
                decoy(20)
            )),
        );
    }
    env.serve(
        &format!("{ARCH_ISO}2026.12.01/archlinux-2026.12.01-x86_64.iso"),
        Served::file(&iso.iso),
    );
    env.serve_bytes(
        &format!("{ARCH_ISO}2026.12.01/archlinux-2026.12.01-x86_64.iso.sig"),
        signature,
    );
}

#[tokio::test]
async fn arch_live_publishes_the_newest_monthly_iso_signed_by_the_pinned_key() {
    let work = tempfile::tempdir().unwrap();
    let iso = shaped::archiso(
        work.path(),
        "archlinux-2026.12.01-x86_64.iso",
        "2026.12.01",
        0x12,
    );
    let key = TestKey::new("arch-releng");
    let env = Env::new(1).await;
    env.with_recipe_override("arch-live", ARCH_KEY, &key.fingerprint);
    env.trust(&key);
    // Binary detached signature over the ISO, as Arch publishes `<iso>.sig`.
    let signature = key.detach_sign(&std::fs::read(&iso.iso).unwrap(), false);
    serve_arch_mirror(&env, &iso, &signature);

    let run = env.repack(&["run", "arch-live"]).await;
    run.assert_success();
    assert!(
        run.stderr.contains("ISO signature verified"),
        "{}",
        run.stderr
    );
    let iso_url = format!("{ARCH_ISO}2026.12.01/archlinux-2026.12.01-x86_64.iso");
    let want = Expected {
        recipe: "arch-live",
        name: "Arch Linux",
        version: "2026.12.01",
        iso_url: &iso_url,
        iso: &iso,
        family: "archiso",
        cmdline: "archisobasedir=arch archiso_http_srv={base}/ ip=dhcp",
        kernel: "arch/boot/x86_64/vmlinuz-linux",
        initrd: "arch/boot/x86_64/initramfs-linux.img",
        rootfs: vec![("airootfs.sfs", "arch/x86_64/airootfs.sfs".to_owned())],
        side: vec![("airootfs.sha512", "arch/x86_64/airootfs.sha512".to_owned())],
    };
    let published = assert_published(&env, &want).await;
    // archiso's own checksum file still checks the published image.
    let check = std::process::Command::new("sha512sum")
        .args(["-c", "airootfs.sha512"])
        .current_dir(&published.release)
        .output()
        .unwrap();
    assert!(check.status.success(), "{check:?}");
    // mkinitcpio's HTTP hook is repack's now (the stock one only defines an empty run_hook).
    let hook = initrd_file(&published.release.join("initrd"), "hooks/archiso_pxe_http");
    assert!(
        String::from_utf8_lossy(&hook).contains("rootfs.list"),
        "the archiso_pxe_http hook was replaced"
    );
    // The newest two release directories were read (2026.11.01 lost on its version), never
    // the third, `latest/`, the alias or an older ISO.
    assert_eq!(
        env.requests_for_url(&format!("{ARCH_ISO}2026.11.01/sha256sums.txt"))
            .len(),
        1
    );
    assert_never_requested(
        &env,
        &[
            format!("{ARCH_ISO}2026.10.01/"),
            format!("{ARCH_ISO}latest/"),
            format!("{ARCH_ISO}2026.12.01/archlinux-x86_64.iso"),
            format!("{ARCH_ISO}2026.11.01/archlinux-2026.11.01-x86_64.iso"),
            format!("{ARCH_ISO}2026.11.01/archlinux-2026.11.01-x86_64.iso.sig"),
        ],
    );
    assert_second_run_changes_nothing(&env, &want, &published).await;
}

#[tokio::test]
async fn arch_live_refuses_an_iso_signed_by_another_key() {
    let work = tempfile::tempdir().unwrap();
    let iso = shaped::archiso(
        work.path(),
        "archlinux-2026.12.01-x86_64.iso",
        "2026.12.01",
        0x12,
    );
    let pinned = TestKey::new("arch-releng");
    let other = TestKey::new("mallory");
    let env = Env::new(0).await;
    env.with_recipe_override("arch-live", ARCH_KEY, &pinned.fingerprint);
    env.trust(&pinned);
    env.trust(&other);
    let signature = other.detach_sign(&std::fs::read(&iso.iso).unwrap(), false);
    serve_arch_mirror(&env, &iso, &signature);

    let run = env.repack(&["run", "arch-live"]).await;
    run.assert_failure_mentions(&[
        "archlinux-2026.12.01-x86_64.iso.sig",
        "signature",
        "nothing was published",
    ]);
    env.assert_nothing_published_for("arch-live").await;
}

// ---------------------------------------------------------------------------------------
// Manjaro: a download page linking each edition's ISO with `.sha256` and `.sig` beside it.

/// Manjaro's x86 download page: links to download.manjaro.org for every edition, full and
/// minimal, each ISO with its `.sha256`, `.sig` and `.torrent` (page structure assumed; the
/// file names follow `manjaro-<edition>-<version>-<yymmdd>-linux<kver>.iso`). The previous
/// KDE release is still linked (assumed), so the pick among KDE releases is by version.
fn manjaro_page() -> String {
    let isos = [
        "kde/25.0.10/manjaro-kde-25.0.10-251013-linux612.iso",
        "kde/25.0.10/manjaro-kde-25.0.10-minimal-251013-linux612.iso",
        "kde/25.0.10/manjaro-kde-25.0.10-minimal-251013-linux66.iso",
        "kde/25.0.9/manjaro-kde-25.0.9-250915-linux612.iso",
        "gnome/25.0.10/manjaro-gnome-25.0.10-251013-linux612.iso",
        "xfce/25.0.10/manjaro-xfce-25.0.10-251013-linux612.iso",
    ];
    let mut links = String::new();
    for iso in isos {
        let url = format!("https://download.manjaro.org/{iso}");
        links.push_str(&format!(
            "<div class=\"download\"><a class=\"btn\" href=\"{url}\">Download</a> <a href=\"{url}.sha256\">SHA256</a> <a href=\"{url}.sig\">Signature</a> <a href=\"{url}.torrent\">Torrent</a></div>\n"
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><title>Download Manjaro</title></head><body>\n<nav><a href=\"/\">Home</a> <a href=\"/products/download/arm\">ARM</a></nav>\n<main>\n{links}</main></body></html>\n"
    )
}

#[tokio::test]
async fn manjaro_live_publishes_the_four_miso_images_of_the_newest_kde_iso() {
    let work = tempfile::tempdir().unwrap();
    let name = "manjaro-kde-25.0.10-251013-linux612.iso";
    let iso = shaped::manjaro(work.path(), name, 0x25);
    let env = Env::new(1).await;
    env.serve(MANJARO_PAGE, Served::text(manjaro_page()));
    let iso_url = format!("https://download.manjaro.org/kde/25.0.10/{name}");
    env.serve(&iso_url, Served::file(&iso.iso));
    // `sha256sum` output, as the `.sha256` beside each ISO (format assumed).
    env.serve(
        &format!("{iso_url}.sha256"),
        Served::text(format!("{}  {name}\n", sha256_file(&iso.iso))),
    );
    let older = "https://download.manjaro.org/kde/25.0.9/manjaro-kde-25.0.9-250915-linux612.iso";
    env.serve(
        &format!("{older}.sha256"),
        Served::text(format!(
            "{}  manjaro-kde-25.0.9-250915-linux612.iso\n",
            decoy(5)
        )),
    );

    let run = env.repack(&["run", "manjaro-live"]).await;
    run.assert_success();
    let want = Expected {
        recipe: "manjaro-live",
        name: "Manjaro KDE Plasma",
        version: "25.0.10",
        iso_url: &iso_url,
        iso: &iso,
        family: "miso",
        cmdline: "misobasedir=manjaro miso_http_srv={base}/ ip=dhcp net.ifnames=0",
        kernel: "boot/vmlinuz-x86_64",
        initrd: "boot/initramfs-x86_64.img",
        rootfs: shaped::MANJARO_LAYERS
            .iter()
            .map(|layer| (*layer, format!("manjaro/x86_64/{layer}")))
            .collect(),
        side: Vec::new(),
    };
    let published = assert_published(&env, &want).await;
    let hook = initrd_file(&published.release.join("initrd"), "hooks/miso_pxe_http");
    assert!(
        String::from_utf8_lossy(&hook).contains("rootfs.list"),
        "the miso_pxe_http hook was replaced"
    );
    // The older KDE release was a candidate (its digest was read) and lost on its version;
    // minimal and other editions never matched.
    assert_eq!(env.requests_for_url(&format!("{older}.sha256")).len(), 1);
    assert_never_requested(
        &env,
        &[
            older.to_owned(),
            "https://download.manjaro.org/kde/25.0.10/manjaro-kde-25.0.10-minimal-251013-linux612.iso.sha256".to_owned(),
            "https://download.manjaro.org/gnome/25.0.10/manjaro-gnome-25.0.10-251013-linux612.iso.sha256".to_owned(),
        ],
    );
    assert_second_run_changes_nothing(&env, &want, &published).await;
}

// ---------------------------------------------------------------------------------------
// Pop!_OS: System76's build API, casper in `casper_<iso name>/`.

/// The build API's answer for one build (field names as this project's notes give them;
/// unverified). The ISO URL's layout on iso.pop-os.org is assumed.
fn pop_build(channel: &str, arch: &str, build: u32, sha256: &str) -> String {
    let name = format!("pop-os_24.04_{arch}_{channel}_{build}.iso");
    format!(
        "{{\"version\":\"24.04\",\"url\":\"https://iso.pop-os.org/24.04/{arch}/{channel}/{build}/{name}\",\"size\":4390000000,\"sha_sum\":\"{sha256}\",\"channel\":\"{channel}\",\"build\":\"{build}\",\"urgent\":false}}"
    )
}

/// Answers the API for the generic amd64 build 17 with `sha256`, and for the channels and
/// releases the recipe must not ask for with other builds.
fn serve_pop_api(env: &Env, sha256: &str) {
    let put = |path: &str, body: String| env.feeds.put(path, Reply::json(body));
    put(
        &stand_in_path(POP_API),
        pop_build("generic", "amd64", 17, sha256),
    );
    put(
        "/api.pop-os.org/builds/24.04/nvidia?arch=amd64",
        pop_build("nvidia", "amd64", 18, &decoy(6)),
    );
    put(
        "/api.pop-os.org/builds/24.04/generic?arch=arm64",
        pop_build("generic", "arm64", 19, &decoy(7)),
    );
    put(
        "/api.pop-os.org/builds/24.04/generic",
        pop_build("generic", "amd64", 1, &decoy(8)),
    );
}

#[tokio::test]
async fn pop_os_live_watches_the_generic_amd64_build() {
    let env = Env::new(1).await;
    let sha256 = decoy(0x17);
    serve_pop_api(&env, &sha256);
    let upstream = watch_newest(&env, "pop-os-live").await;
    assert_eq!(upstream["version"], "17");
    assert_eq!(
        upstream["iso_url"],
        "https://iso.pop-os.org/24.04/amd64/generic/17/pop-os_24.04_amd64_generic_17.iso"
    );
    assert_eq!(
        upstream["sha256"], sha256,
        "the API's digest is the release's"
    );
    let asked: Vec<(String, Option<String>)> = env
        .feeds
        .requests()
        .into_iter()
        .map(|request| (request.path, request.query))
        .collect();
    assert_eq!(
        asked,
        [(
            "/api.pop-os.org/builds/24.04/generic".to_owned(),
            Some("arch=amd64".to_owned())
        )]
    );
}

#[tokio::test]
async fn pop_os_live_publishes_casper_from_its_build_directory() {
    let work = tempfile::tempdir().unwrap();
    let stem = "pop-os_24.04_amd64_generic_17";
    let iso = shaped::pop_os(work.path(), stem, 0x17);
    let env = Env::new(1).await;
    serve_pop_api(&env, &sha256_file(&iso.iso));
    let iso_url = format!("https://iso.pop-os.org/24.04/amd64/generic/17/{stem}.iso");
    env.serve(&iso_url, Served::file(&iso.iso));

    let run = env.repack(&["run", "pop-os-live"]).await;
    run.assert_success();
    let casper = format!("casper_{stem}");
    let kernel = format!("{casper}/vmlinuz.efi");
    let initrd = format!("{casper}/initrd.gz");
    let want = Expected {
        recipe: "pop-os-live",
        name: "Pop!_OS 24.04 build",
        version: "17",
        iso_url: &iso_url,
        iso: &iso,
        family: "casper",
        // No live-media-path=: the hook lays the image out where casper looks by default.
        cmdline: "boot=casper repack.base={base}/ ip=dhcp",
        kernel: &kernel,
        initrd: &initrd,
        rootfs: vec![(
            "filesystem.squashfs",
            format!("{casper}/filesystem.squashfs"),
        )],
        side: Vec::new(),
    };
    let published = assert_published(&env, &want).await;
    assert_casper_order_names_the_hook(&published.release);
    assert_second_run_changes_nothing(&env, &want, &published).await;
}
