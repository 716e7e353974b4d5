//! The shared fetch code every family's hook starts with (`repack_boot::HOOK_COMMON`), run on
//! its own in the sandbox against a local server: parts are written once, straight onto the
//! end of their image, in a real tmpfs sized to the images plus 1 MiB, so a part held a
//! second time anywhere in it (a temporary copy, a whole part buffered before joining) would
//! not fit. A server that trickles its bytes makes the hasher read the image back while it
//! grows; a failed part leaves nothing in the directory.

use crate::support::{Release, Run, Sandbox, blocking, release, serve, serve_recording};
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use futures_util::StreamExt as _;
use repack_boot::{HOOK_COMMON, ROOTFS_LIST_PATH, render_rootfs_list};
use repack_core::Sha256Digest;

const MIB: usize = 1 << 20;
/// The tmpfs's room above the images (`repack_slack` in common.sh).
const SLACK: u64 = 1 << 20;

/// Sources the shared code with busybox wget as `repack_get`, mounts the tmpfs the way the
/// families do, fetches everything into it, and reports what is left there.
fn fetch(sandbox: &Sandbox, release: &Release, base_url: &str) -> Run {
    sandbox.write("lib/repack-common.sh", HOOK_COMMON, 0o644);
    sandbox.write(
        ROOTFS_LIST_PATH,
        render_rootfs_list(&release.files).unwrap(),
        0o644,
    );
    let script = format!(
        r#". /lib/repack-common.sh
repack_get () {{ wget -q -O - "$1"; }}
repack_base="{base_url}/"
repack_mount_tmpfs /run/repack || exit 1
repack_fetch_all /run/repack
echo "RC $?"
echo "TMPFS $(stat -f -c '%b %S' /run/repack)"
for entry in /run/repack/* /run/repack/.*; do
    case "$entry" in */.|*/..|*'*') ;; *) echo "LEFT $(sha256sum "$entry")" ;; esac
done
"#
    );
    sandbox.run(&script)
}

fn value<'a>(run: &'a Run, key: &str) -> &'a str {
    run.output
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .unwrap_or_else(|| panic!("no `{key}` line\n{}\n{}", run.output, run.console))
}

fn left(run: &Run) -> Vec<String> {
    let mut lines: Vec<String> = run
        .output
        .lines()
        .filter_map(|line| line.strip_prefix("LEFT "))
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

fn expected_images(release: &Release) -> Vec<String> {
    let mut lines: Vec<String> = release
        .originals
        .iter()
        .map(|(name, data)| format!("{}  /run/repack/{name}", Sha256Digest::of(data)))
        .collect();
    lines.sort();
    lines
}

/// Two images, the second in three 16 MiB parts: a tmpfs with 1 MiB of room above the images
/// cannot also hold a whole part (joining the last part through a copy would need 65 MiB),
/// and each part is big enough for the hasher to read it back in several pieces.
fn three_parts() -> Release {
    release(
        &[("extra.img", MIB), ("filesystem.squashfs", 48 * MIB)],
        16 * MIB,
    )
}

/// Serves the release's files like `serve`, but each in 1 MiB pieces 50 ms apart, so a
/// 16 MiB part takes about 0.8 s to arrive: the hasher reads it back in several pieces.
async fn serve_slowly(root: std::path::PathBuf) -> u16 {
    let app = Router::new().route(
        "/rel/{name}",
        get(
            move |axum::extract::Path(name): axum::extract::Path<String>| {
                let path = root.join(name);
                async move {
                    let bytes = tokio::fs::read(path).await.unwrap();
                    let pieces: Vec<Vec<u8>> = bytes.chunks(1 << 20).map(<[u8]>::to_vec).collect();
                    let stream = futures_util::stream::iter(pieces).then(|piece| async move {
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        Ok::<_, std::io::Error>(piece)
                    });
                    Body::from_stream(stream)
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

async fn joins_in_a_tmpfs_of_the_images_size(release: Release, port: u16) {
    assert_eq!(release.files[1].parts.len(), 3);
    let total: u64 = release.files.iter().map(|file| file.size).sum();
    let url = format!("http://127.0.0.1:{port}/rel");
    let (run, release) = blocking(move || (fetch(&Sandbox::new(), &release, &url), release)).await;
    assert_eq!(value(&run, "RC "), "0", "{}\n{}", run.output, run.console);
    assert!(run.repack_lines().is_empty(), "{}", run.console);
    assert_eq!(
        run.progress_lines().last().copied(),
        Some("repack: root filesystem verified")
    );
    // The joined images are byte-identical to the originals, and nothing else is left.
    assert_eq!(left(&run), expected_images(&release));
    // The tmpfs the hook mounted: the images and the slack, rounded up to whole pages.
    let (blocks, block_size) = value(&run, "TMPFS ").split_once(' ').unwrap();
    let mounted = blocks.parse::<u64>().unwrap() * block_size.parse::<u64>().unwrap();
    assert_eq!(mounted, (total + SLACK).div_ceil(4096) * 4096);
    assert!(mounted < total + release.files[1].parts[0].size);
}

#[tokio::test]
async fn parts_land_once_on_their_image_in_a_tmpfs_of_the_images_size() {
    let release = three_parts();
    let port = serve(release.dir.path().to_owned()).await;
    joins_in_a_tmpfs_of_the_images_size(release, port).await;
}

#[tokio::test]
async fn a_part_that_trickles_in_is_hashed_from_the_image_while_it_grows() {
    let release = three_parts();
    let port = serve_slowly(release.dir.path().to_owned()).await;
    joins_in_a_tmpfs_of_the_images_size(release, port).await;
}

/// Breaks the release with `damage`, fetches it, and checks the one failure line and that no
/// image is left behind. Returns the paths the server was asked for, in order.
async fn fails_and_leaves_nothing(
    damage: impl Fn(&Release),
    line_start: &str,
    part: &str,
) -> Vec<String> {
    let release = three_parts();
    damage(&release);
    let (port, requested) = serve_recording(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || fetch(&Sandbox::new(), &release, &url)).await;
    let context = format!("{}\n{}", run.output, run.console);
    assert_eq!(value(&run, "RC "), "1", "{context}");
    let lines = run.repack_lines();
    assert_eq!(lines.len(), 1, "{context}");
    assert!(lines[0].starts_with(line_start), "{context}");
    assert!(
        lines[0].ends_with(&format!("http://127.0.0.1:{port}/rel/{part}")),
        "{context}"
    );
    assert!(left(&run).is_empty(), "{context}");
    requested.lock().unwrap().clone()
}

#[tokio::test]
async fn a_corrupted_part_fails_and_leaves_nothing_behind() {
    fails_and_leaves_nothing(
        |release| release.corrupt("filesystem.squashfs.part2"),
        "repack: sha256 mismatch (got ",
        "filesystem.squashfs.part2",
    )
    .await;
}

#[tokio::test]
async fn a_truncated_part_fails_and_leaves_nothing_behind() {
    fails_and_leaves_nothing(
        |release| {
            let path = release.dir.path().join("filesystem.squashfs.part3");
            let bytes = std::fs::read(&path).unwrap();
            std::fs::write(&path, &bytes[..1000]).unwrap();
        },
        "repack: size mismatch (1000 bytes, expected 16777216)",
        "filesystem.squashfs.part3",
    )
    .await;
}

#[tokio::test]
async fn a_missing_part_fails_and_leaves_nothing_behind() {
    // The first image is complete by then: it goes too.
    fails_and_leaves_nothing(
        |release| release.remove("filesystem.squashfs.part2"),
        "repack: download failed",
        "filesystem.squashfs.part2",
    )
    .await;
}

/// A part is hashed as it lands and its last bytes while the next part downloads, so a bad
/// part is found during the next download at the latest, and the fetch ends there: the part
/// after that one is never asked for, and nothing is left.
#[tokio::test]
async fn a_bad_part_ends_the_fetch_before_the_part_after_the_next() {
    let requested = fails_and_leaves_nothing(
        |release| release.corrupt("filesystem.squashfs"),
        "repack: sha256 mismatch (got ",
        "filesystem.squashfs",
    )
    .await;
    assert!(
        requested.contains(&"/rel/filesystem.squashfs".to_owned()),
        "{requested:?}"
    );
    assert!(
        !requested.contains(&"/rel/filesystem.squashfs.part3".to_owned()),
        "the fetch went on past the part after the bad one: {requested:?}"
    );
}

/// Moves part 2 of the root image out of `release` into an earlier release's directory,
/// served by another server, and lists it by its full URL there (as a build that reuses a
/// published part does). Returns that directory (kept alive by the caller) and the URL.
async fn borrow_part2(release: &mut Release) -> (tempfile::TempDir, String) {
    let earlier = tempfile::tempdir().unwrap();
    let name = "filesystem.squashfs.part2";
    std::fs::rename(release.dir.path().join(name), earlier.path().join(name)).unwrap();
    let port = serve(earlier.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel/{name}");
    release.files[1].parts[1].url = Some(url.clone());
    (earlier, url)
}

#[tokio::test]
async fn a_part_listed_by_its_full_url_is_fetched_from_there() {
    let mut release = three_parts();
    let (_earlier, _url) = borrow_part2(&mut release).await;
    // The release's own directory no longer has the part: only the URL can provide it.
    assert!(
        !release
            .dir
            .path()
            .join("filesystem.squashfs.part2")
            .exists()
    );
    let port = serve(release.dir.path().to_owned()).await;
    joins_in_a_tmpfs_of_the_images_size(release, port).await;
}

#[tokio::test]
async fn a_damaged_part_behind_a_full_url_fails_with_that_url_and_leaves_nothing() {
    let mut release = three_parts();
    let (earlier, url) = borrow_part2(&mut release).await;
    let path = earlier.path().join("filesystem.squashfs.part2");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[4096] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    let port = serve(release.dir.path().to_owned()).await;
    let base = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || fetch(&Sandbox::new(), &release, &base)).await;
    let context = format!("{}\n{}", run.output, run.console);
    assert_eq!(value(&run, "RC "), "1", "{context}");
    let lines = run.repack_lines();
    assert_eq!(lines.len(), 1, "{context}");
    assert!(
        lines[0].starts_with("repack: sha256 mismatch (got "),
        "{context}"
    );
    assert!(lines[0].ends_with(&url), "{context}");
    assert!(left(&run).is_empty(), "{context}");
}
