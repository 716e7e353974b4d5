//! What the watcher makes of a repository's releases.

use crate::{Env, serve_pages};
use repack_testkit::feed::Reply;
use repack_watch_common::Feeds;

#[tokio::test]
async fn two_pages_of_releases_become_candidates() {
    let env = Env::start().await;
    serve_pages(&env.server);
    env.server.put(
        "/example-os/live-iso/releases/download/v7.2.0/example-os-7.2.0-x86_64.iso.sha256",
        Reply::text(format!("{}  example-os-7.2.0-x86_64.iso\n", "5".repeat(64))),
    );
    // Asset URLs name github.com; the checksum asset next to 7.2.0's ISO is fetched through
    // the fetcher, whose mirror rewrite sends github.com to the stand-in.
    let cache = tempfile::tempdir().unwrap();
    let mut config = repack_fetch::FetchConfig::new(cache.path());
    config.retries = 0;
    config.rewrites = vec![repack_core::MirrorRewrite {
        from: "https://github.com/".to_owned(),
        to: env.server.base().to_owned(),
    }];
    let fetcher = repack_fetch::Fetcher::new(config).unwrap();
    let (recipe, watch) = crate::config(&env.server, "checksum_asset = \"{name}.sha256\"");

    let found = repack_watch_github::candidates(&watch, &recipe, Feeds::new(&fetcher), None)
        .await
        .unwrap();

    let summary: Vec<String> = found
        .iter()
        .map(|c| {
            format!(
                "{} | {} | {} | {:?} | arch {:?} | size {:?} | published {:?} | pre {} | list {:?}",
                c.version,
                c.iso_name,
                c.iso_url,
                c.checksum,
                c.upstream_arch,
                c.size,
                c.published_at,
                c.prerelease,
                c.checksum_url
            )
        })
        .collect();
    insta::assert_snapshot!(summary.join("\n"));
    let pages: Vec<_> = env
        .server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/releases"))
        .map(|r| r.query.unwrap_or_default())
        .collect();
    assert_eq!(pages, ["per_page=100", "per_page=100&page=2"]);
}

#[tokio::test]
async fn assets_without_digest_are_left_out_without_a_checksum_asset() {
    let env = Env::start().await;
    serve_pages(&env.server);
    let found = env.candidates("", None).await.unwrap();
    assert!(found.iter().all(|c| c.version != "7.2.0"), "{found:?}");
    // The draft never appears; the pre-release is marked, not dropped (policy drops it).
    assert!(found.iter().all(|c| c.version != "7.3.0"));
    assert!(
        found
            .iter()
            .any(|c| c.version == "7.3.0-rc1" && c.prerelease)
    );
}

#[tokio::test]
async fn newest_through_the_registry_skips_prerelease_and_other_arch() {
    let env = Env::start().await;
    serve_pages(&env.server);
    let watch = format!(
        "repo = \"example-os/live-iso\"\napi = \"{}\"\nasset_pattern = '^example-os-[0-9][0-9a-z.-]*-(?P<arch>x86_64|aarch64)\\.iso$'",
        env.server.base()
    );
    let recipe = repack_watch::compliance::recipe("github", &watch, "");
    let chosen = repack_watch::newest(&repack_watch::WatchContext::new(&recipe, &env.fetcher))
        .await
        .unwrap();
    assert_eq!(chosen.version, "7.2.1");
    assert_eq!(chosen.iso_name, "example-os-7.2.1-x86_64.iso");
}
