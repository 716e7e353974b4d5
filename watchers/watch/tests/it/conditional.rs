//! Conditional requests through the whole registry, with a [`MemoryFeedCache`]: a 304 reads
//! no body and yields the candidates of the last 200; validators change only on a 200; a
//! changed feed refreshes the kept copy; publish times come from `Last-Modified` for lists
//! and pages, and from the feed's own dates for structured feeds.

use crate::hex;
use crate::standin::{Doc, Standin};
use repack_core::Checksum;
use repack_watch::{MemoryFeedCache, StoredFeed, WatchContext, candidates, newest};

const MONDAY: &str = "Mon, 04 Nov 2024 10:00:00 GMT";
const TUESDAY: &str = "Tue, 05 Nov 2024 10:00:00 GMT";

fn list(version: &str, digest: char) -> String {
    format!(
        "{}  debian-live-{version}-amd64-standard.iso\n",
        hex(digest)
    )
}

fn checksums_recipe(standin: &Standin, extra: &str) -> repack_core::Recipe {
    crate::recipe(
        "checksums",
        &format!(
            "url = \"{}\"\npattern = '^debian-live-(?P<version>[0-9.]+)-amd64-standard\\.iso$'\n{extra}",
            standin.url("/releases/")
        ),
        "",
    )
}

/// An index of two version directories, each with its list.
fn serve_directories(standin: &Standin) {
    standin.put(
        "/releases/",
        Doc {
            body: "<a href=\"12.8.0/\">12.8.0/</a> <a href=\"12.9.0/\">12.9.0/</a>".to_owned(),
            etag: Some("\"index-1\"".to_owned()),
            last_modified: Some(MONDAY.to_owned()),
            ..Doc::default()
        },
    );
    for (version, digest, modified) in [("12.8.0", 'a', MONDAY), ("12.9.0", 'b', TUESDAY)] {
        standin.put(
            &format!("/releases/{version}/SHA256SUMS"),
            Doc {
                body: list(version, digest),
                etag: Some(format!("\"{version}-1\"")),
                last_modified: Some(modified.to_owned()),
                ..Doc::default()
            },
        );
    }
}

#[tokio::test]
async fn a_304_reads_no_body_and_gives_the_same_candidates() {
    let standin = Standin::start().await;
    serve_directories(&standin);
    let cache_dir = tempfile::tempdir().unwrap();
    let fetcher = repack_watch::compliance::fetcher(cache_dir.path());
    let recipe = checksums_recipe(&standin, "dir_pattern = '^(?P<version>[0-9.]+)$'");
    let cache = MemoryFeedCache::new();
    let mut ctx = WatchContext::new(&recipe, &fetcher);
    ctx.feed_cache = Some(&cache);

    let first = candidates(&ctx).await.unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(cache.counts().puts, 3, "the index and both lists are kept");
    assert!(standin.log().iter().all(|logged| logged.status == 200
        && logged.if_none_match.is_none()
        && logged.if_modified_since.is_none()));
    let sent = standin.body_bytes_sent();
    let requests = standin.log().len();

    let second = candidates(&ctx).await.unwrap();
    assert_eq!(
        second, first,
        "a 304 yields exactly the candidates of the last 200"
    );
    let again = &standin.log()[requests..];
    assert_eq!(again.len(), 3);
    for logged in again {
        assert_eq!(logged.status, 304, "{logged:?}");
        assert!(logged.if_none_match.is_some() && logged.if_modified_since.is_some());
    }
    assert_eq!(
        standin.body_bytes_sent(),
        sent,
        "no body was sent for a 304"
    );
    assert_eq!(cache.counts().puts, 3);
    assert_eq!(cache.counts().revalidations, 3);

    let chosen = newest(&ctx).await.unwrap();
    assert_eq!(chosen.version, "12.9.0");
    assert_eq!(chosen.checksum, Checksum::Sha256(hex('b').parse().unwrap()));
    // The list naming 12.9.0 last changed on Tuesday: that is when it was published,
    // on the 200 and on the 304 alike.
    assert_eq!(chosen.published_at.as_deref(), Some("2024-11-05T10:00:00Z"));
    let older = first.iter().find(|c| c.version == "12.8.0").unwrap();
    assert_eq!(older.published_at.as_deref(), Some("2024-11-04T10:00:00Z"));
}

#[tokio::test]
async fn last_modified_alone_revalidates_and_dates_the_page() {
    let standin = Standin::start().await;
    standin.put(
        "/kde/",
        Doc {
            body: "<a href=\"manjaro-kde-25.0.10-linux612.iso\">iso</a>".to_owned(),
            last_modified: Some(TUESDAY.to_owned()),
            ..Doc::default()
        },
    );
    let cache_dir = tempfile::tempdir().unwrap();
    let fetcher = repack_watch::compliance::fetcher(cache_dir.path());
    let recipe = crate::recipe(
        "html-index",
        &format!(
            "url = \"{}\"\npattern = '^manjaro-kde-(?P<version>[0-9.]+)-linux[0-9]+\\.iso$'\nchecksum = \"none\"",
            standin.url("/kde/")
        ),
        "",
    );
    let cache = MemoryFeedCache::new();
    let mut ctx = WatchContext::new(&recipe, &fetcher);
    ctx.feed_cache = Some(&cache);

    let first = newest(&ctx).await.unwrap();
    assert_eq!(first.published_at.as_deref(), Some("2024-11-05T10:00:00Z"));
    let second = newest(&ctx).await.unwrap();
    assert_eq!(second, first);
    let last = standin.log().pop().unwrap();
    assert_eq!(
        (
            last.status,
            last.if_none_match,
            last.if_modified_since.as_deref()
        ),
        (304, None, Some(TUESDAY))
    );
    assert_eq!(cache.counts().revalidations, 1);
}

#[tokio::test]
async fn validators_are_only_replaced_by_a_200() {
    let standin = Standin::start().await;
    let url = "/live/SHA256SUMS";
    standin.put(
        url,
        Doc {
            body: list("12.8.0", 'a'),
            etag: Some("\"a\"".to_owned()),
            last_modified: Some(MONDAY.to_owned()),
            ..Doc::default()
        },
    );
    let cache_dir = tempfile::tempdir().unwrap();
    let fetcher = repack_watch::compliance::fetcher(cache_dir.path());
    let recipe = crate::recipe(
        "checksums",
        &format!(
            "url = \"{}\"\npattern = '^debian-live-(?P<version>[0-9.]+)-amd64-standard\\.iso$'",
            standin.url(url)
        ),
        "",
    );
    let cache = MemoryFeedCache::new();
    let mut ctx = WatchContext::new(&recipe, &fetcher);
    ctx.feed_cache = Some(&cache);
    newest(&ctx).await.unwrap();
    let kept = cache.copy_of(&standin.url(url)).unwrap();
    assert_eq!(
        kept,
        StoredFeed {
            etag: Some("\"a\"".to_owned()),
            last_modified: Some(MONDAY.to_owned()),
            next_url: None,
            body: list("12.8.0", 'a'),
        }
    );

    // The server now tags the same content "b" but still calls "a" current: its 304 says
    // `ETag: "b"`. The copy keeps the validators of the reply that carried its body.
    standin.put(
        url,
        Doc {
            body: list("12.8.0", 'a'),
            etag: Some("\"b\"".to_owned()),
            also_current: vec!["\"a\"".to_owned()],
            last_modified: Some(TUESDAY.to_owned()),
        },
    );
    newest(&ctx).await.unwrap();
    assert_eq!(standin.log().pop().unwrap().status, 304);
    assert_eq!(cache.copy_of(&standin.url(url)).unwrap(), kept);

    // A real change: a 200 with a new body replaces body and validators.
    standin.put(
        url,
        Doc {
            body: list("12.9.0", 'c'),
            etag: Some("\"c\"".to_owned()),
            last_modified: Some(TUESDAY.to_owned()),
            ..Doc::default()
        },
    );
    let chosen = newest(&ctx).await.unwrap();
    assert_eq!(chosen.version, "12.9.0");
    assert_eq!(chosen.checksum, Checksum::Sha256(hex('c').parse().unwrap()));
    assert_eq!(
        cache.copy_of(&standin.url(url)).unwrap(),
        StoredFeed {
            etag: Some("\"c\"".to_owned()),
            last_modified: Some(TUESDAY.to_owned()),
            next_url: None,
            body: list("12.9.0", 'c'),
        }
    );
    assert_eq!(cache.counts().puts, 2);
}

#[tokio::test]
async fn without_a_cache_every_request_is_unconditional() {
    let standin = Standin::start().await;
    serve_directories(&standin);
    let cache_dir = tempfile::tempdir().unwrap();
    let fetcher = repack_watch::compliance::fetcher(cache_dir.path());
    let recipe = checksums_recipe(&standin, "dir_pattern = '^(?P<version>[0-9.]+)$'");
    let ctx = WatchContext::new(&recipe, &fetcher);
    candidates(&ctx).await.unwrap();
    candidates(&ctx).await.unwrap();
    let log = standin.log();
    assert_eq!(log.len(), 6);
    assert!(
        log.iter()
            .all(|logged| logged.status == 200 && logged.if_none_match.is_none())
    );
}

#[tokio::test]
async fn json_dates_are_the_publish_times_not_last_modified() {
    let standin = Standin::start().await;
    let body = format!(
        r#"[{{"version": "42", "link": "{}", "sha256": "{}", "date": "2026-04-15T12:00:00+02:00"}}]"#,
        standin.url("/iso/Fedora-Live-42-1.1.x86_64.iso"),
        hex('e')
    );
    standin.put(
        "/releases.json",
        Doc {
            body,
            etag: Some("\"j\"".to_owned()),
            last_modified: Some(TUESDAY.to_owned()),
            ..Doc::default()
        },
    );
    let cache_dir = tempfile::tempdir().unwrap();
    let fetcher = repack_watch::compliance::fetcher(cache_dir.path());
    let recipe = crate::recipe(
        "json",
        &format!(
            "url = \"{}\"\nfields = {{ url = \"link\", sha256 = \"sha256\", date = \"date\" }}\npattern = '^Fedora-Live-(?P<version>[0-9]+-[0-9.]+)\\.x86_64\\.iso$'",
            standin.url("/releases.json")
        ),
        "",
    );
    let cache = MemoryFeedCache::new();
    let mut ctx = WatchContext::new(&recipe, &fetcher);
    ctx.feed_cache = Some(&cache);
    for _ in 0..2 {
        let chosen = newest(&ctx).await.unwrap();
        assert_eq!(chosen.published_at.as_deref(), Some("2026-04-15T10:00:00Z"));
    }
    assert_eq!(standin.log().pop().unwrap().status, 304);
}
