//! The API token goes to the API and nowhere else.

use crate::{Env, FIRST, fixture};
use repack_testkit::feed::Reply;
use repack_watch::ApiToken;

#[tokio::test]
async fn the_token_is_sent_to_the_api_origin_only() {
    let env = Env::start().await;
    // The next page is announced on another origin (`localhost` instead of `127.0.0.1`,
    // the same stand-in): it is followed, but without the token.
    let port = env
        .server
        .base()
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
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
    let token = ApiToken::new("ghp_not_a_real_token").unwrap();

    env.candidates("", Some(&token)).await.unwrap();

    let seen: Vec<(String, bool)> = env
        .server
        .requests()
        .into_iter()
        .map(|r| (r.path, r.authorized))
        .collect();
    assert_eq!(
        seen,
        [
            ("/repos/example-os/live-iso/releases".to_owned(), true),
            ("/elsewhere/releases".to_owned(), false)
        ]
    );
    assert!(!format!("{token:?}").contains("ghp_"));
}

#[tokio::test]
async fn without_a_token_nothing_is_authorized() {
    let env = Env::start().await;
    crate::serve_pages(&env.server);
    env.candidates("", None).await.unwrap();
    assert!(env.server.requests().iter().all(|r| !r.authorized));
}
