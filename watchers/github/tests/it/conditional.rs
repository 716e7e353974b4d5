//! API pages are conditional on the copies a feed cache kept: a second check sends
//! `If-None-Match`, is answered 304, reads no body and finds the same candidates, following
//! the next page the kept copy names (a 304 does not repeat the `Link` header); a changed
//! page is read whole; the token still goes to the API origin only.

use crate::{Env, FIRST, SECOND, fixture, serve_pages};
use repack_testkit::feed::{FeedRequest, Reply};
use repack_watch::{ApiToken, MemoryFeedCache};
use repack_watch_common::Feeds;

impl Env {
    async fn candidates_with(
        &self,
        cache: &MemoryFeedCache,
        token: Option<&ApiToken>,
    ) -> Vec<repack_core::Candidate> {
        let (recipe, config) = crate::config(&self.server, "");
        let feeds = Feeds::new(&self.fetcher).with_cache(Some(cache));
        repack_watch_github::candidates(&config, &recipe, feeds, token)
            .await
            .unwrap()
    }

    /// The requests logged since `start`.
    fn since(&self, start: usize) -> Vec<FeedRequest> {
        self.server.requests().split_off(start)
    }
}

#[tokio::test]
async fn an_unchanged_repository_is_answered_304_and_gives_the_same_candidates() {
    let env = Env::start().await;
    serve_pages(&env.server);
    env.server.set_validators(true);
    let cache = MemoryFeedCache::new();

    let first = env.candidates_with(&cache, None).await;
    assert!(!first.is_empty());
    let read = env.since(0);
    assert_eq!(read.len(), 2, "{read:?}");
    assert!(
        read.iter()
            .all(|r| !r.conditional() && r.status == 200 && r.body_bytes > 0)
    );
    let base = env.server.base().trim_end_matches('/');
    let kept = cache.copy_of(&format!("{base}{FIRST}")).unwrap();
    assert_eq!(
        kept.next_url.as_deref(),
        Some(format!("{base}{SECOND}").as_str()),
        "the first page keeps the next page's URL from its `Link` header"
    );
    assert_eq!(
        cache.copy_of(&format!("{base}{SECOND}")).unwrap().next_url,
        None,
        "the last page names none (`prev` and `first` are not `next`)"
    );

    let second = env.candidates_with(&cache, None).await;
    assert_eq!(
        second, first,
        "a 304 yields exactly the candidates of the last 200"
    );
    let asked = env.since(2);
    let pages: Vec<(String, bool, bool, usize)> = asked
        .iter()
        .map(|r| {
            (
                r.path_and_query(),
                r.if_none_match.is_some(),
                r.not_modified(),
                r.body_bytes,
            )
        })
        .collect();
    assert_eq!(
        pages,
        [
            (FIRST.to_owned(), true, true, 0),
            (SECOND.to_owned(), true, true, 0)
        ],
        "both pages asked with If-None-Match, both 304 without a body"
    );
    assert_eq!(
        asked[0].if_none_match.as_deref(),
        kept.etag.as_deref(),
        "the ETag of the 200 goes back as it came"
    );
    assert_eq!(cache.counts().puts, 2);
    assert_eq!(cache.counts().revalidations, 2);
}

#[tokio::test]
async fn a_changed_page_is_read_whole_and_replaces_its_copy() {
    let env = Env::start().await;
    serve_pages(&env.server);
    env.server.set_validators(true);
    let cache = MemoryFeedCache::new();
    let first = env.candidates_with(&cache, None).await;

    // An older release is added to page 2: page 1 is unchanged, page 2 is not.
    let page = fixture("releases-page-2.json", &env.server);
    let mut changed: Vec<serde_json::Value> = serde_json::from_str(&page).unwrap();
    changed.push(serde_json::json!({
        "tag_name": "v7.1.0", "draft": false, "prerelease": false,
        "published_at": "2026-06-01T10:00:00Z",
        "assets": [{
            "name": "example-os-7.1.0-x86_64.iso", "size": 2995781632u64,
            "digest": format!("sha256:{}", "7".repeat(64)),
            "browser_download_url": "https://github.com/example-os/live-iso/releases/download/v7.1.0/example-os-7.1.0-x86_64.iso",
        }],
    }));
    env.server.put(
        SECOND,
        Reply::json(serde_json::to_string(&changed).unwrap()),
    );

    let second = env.candidates_with(&cache, None).await;
    let asked = env.since(2);
    let statuses: Vec<(String, u16)> = asked
        .iter()
        .map(|r| (r.path_and_query(), r.status))
        .collect();
    assert_eq!(
        statuses,
        [(FIRST.to_owned(), 304), (SECOND.to_owned(), 200)]
    );
    assert!(asked.iter().all(FeedRequest::conditional));
    assert!(first.iter().all(|c| c.version != "7.1.0"));
    assert_eq!(second.len(), first.len() + 1, "{second:?}");
    assert!(second.iter().any(|c| c.version == "7.1.0"), "{second:?}");
    let base = env.server.base().trim_end_matches('/');
    assert_eq!(
        cache.copy_of(&format!("{base}{SECOND}")).unwrap().body,
        serde_json::to_string(&changed).unwrap()
    );
}

#[tokio::test]
async fn kept_pages_keep_the_token_on_the_api_origin() {
    let env = Env::start().await;
    // The next page is on another origin (`localhost`, the same stand-in): it is followed
    // from the kept copy on a 304, still without the token.
    let port = env
        .server
        .base()
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    let elsewhere = format!("http://localhost:{port}/elsewhere/releases?page=2");
    env.server.put(
        FIRST,
        Reply::json(fixture("releases-page-1.json", &env.server))
            .header("link", format!("<{elsewhere}>; rel=\"next\"")),
    );
    env.server.put(
        "/elsewhere/releases",
        Reply::json(fixture("releases-page-2.json", &env.server)),
    );
    env.server.set_validators(true);
    let token = ApiToken::new("ghp_not_a_real_token").unwrap();
    let cache = MemoryFeedCache::new();

    let first = env.candidates_with(&cache, Some(&token)).await;
    let second = env.candidates_with(&cache, Some(&token)).await;
    assert_eq!(second, first);

    let seen: Vec<(String, bool, u16)> = env
        .server
        .requests()
        .into_iter()
        .map(|r| (r.path, r.authorized, r.status))
        .collect();
    let api = "/repos/example-os/live-iso/releases".to_owned();
    let other = "/elsewhere/releases".to_owned();
    assert_eq!(
        seen,
        [
            (api.clone(), true, 200),
            (other.clone(), false, 200),
            (api, true, 304),
            (other, false, 304)
        ]
    );
    assert_eq!(
        cache
            .copy_of(&format!(
                "{}{FIRST}",
                env.server.base().trim_end_matches('/')
            ))
            .unwrap()
            .next_url,
        Some(elsewhere)
    );
}

#[tokio::test]
async fn without_a_cache_or_validators_nothing_is_conditional() {
    let env = Env::start().await;
    serve_pages(&env.server);
    // Validators, but no cache: nothing kept, nothing conditional.
    env.server.set_validators(true);
    env.candidates("", None).await.unwrap();
    env.candidates("", None).await.unwrap();
    // A cache, but replies without validators: nothing can be kept.
    env.server.set_validators(false);
    let cache = MemoryFeedCache::new();
    env.candidates_with(&cache, None).await;
    env.candidates_with(&cache, None).await;
    assert!(cache.urls().is_empty());
    let requests = env.server.requests();
    assert_eq!(requests.len(), 8);
    assert!(requests.iter().all(|r| !r.conditional() && r.status == 200));
}
