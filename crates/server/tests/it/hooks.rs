//! The webhook endpoints over HTTP: a valid delivery answers 202 and queues one build job per
//! recipe its repository triggers; a replayed delivery id queues nothing more; every refusal
//! answers its 4xx and leaves the queue empty.

use crate::support::{
    FORGEJO_SECRET, GITHUB_SECRET, GITLAB_TOKEN, TestServer, github_signature, hmac_hex, start,
    start_with,
};
use repack_queue::{JobState, Reason};
use repack_testkit::database::TestBackend;
use serde_json::{Value, json};

repack_testkit::test_on_both_backends!(
    a_signed_github_release_queues_one_job_per_watching_recipe,
    a_replayed_delivery_queues_nothing_more,
    refused_github_deliveries_queue_nothing,
    a_gitlab_tag_push_queues_its_recipe,
    a_forgejo_release_queues_its_recipe,
    a_ping_or_an_unwatched_repository_is_accepted_and_queues_nothing,
);

fn release_body(repository: &str, tag: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "action": "published",
        "release": {
            "id": 1, "tag_name": tag, "name": tag, "draft": false, "prerelease": false,
            "html_url": format!("https://github.com/{repository}/releases/tag/{tag}"),
            "assets": []
        },
        "repository": { "id": 7, "full_name": repository, "name": "live-iso", "private": false },
        "sender": { "login": "releaser" }
    }))
    .unwrap()
}

async fn post_github(
    server: &TestServer,
    event: &str,
    delivery: &str,
    body: &[u8],
    signature: Option<String>,
) -> reqwest::Response {
    let mut request = server
        .http
        .post(format!("{}/hooks/github", server.url))
        .header("Content-Type", "application/json")
        .header("X-GitHub-Event", event)
        .header("X-GitHub-Delivery", delivery)
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("X-Hub-Signature-256", signature);
    }
    request.send().await.unwrap()
}

async fn a_signed_github_release_queues_one_job_per_watching_recipe(backend: TestBackend) {
    let server = start(backend).await;
    let body = release_body("example-os/live-iso", "v26.04");
    let signature = github_signature(GITHUB_SECRET, &body);
    let response = post_github(&server, "release", "d-1", &body, Some(signature)).await;
    assert_eq!(response.status(), 202);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["outcome"], "enqueued", "{answer}");

    let jobs = server.jobs().await;
    let mut recipes: Vec<&str> = jobs.iter().map(|job| job.recipe.as_str()).collect();
    recipes.sort_unstable();
    // The repository's path compares without case: both recipes are triggered.
    assert_eq!(recipes, ["example-live", "example-live-lts"]);
    assert!(
        jobs.iter()
            .all(|job| job.reason == Reason::Webhook && job.state == JobState::Queued)
    );
}

async fn a_replayed_delivery_queues_nothing_more(backend: TestBackend) {
    let server = start(backend).await;
    let body = release_body("example-os/live-iso", "v26.04");
    let signature = github_signature(GITHUB_SECRET, &body);
    let first = post_github(&server, "release", "d-2", &body, Some(signature.clone())).await;
    assert_eq!(first.status(), 202);
    // The first delivery's jobs finish (so the dedupe key alone would not stop a new one).
    for job in server.jobs().await {
        let claim = server
            .queue
            .claim("test", std::time::Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        server.queue.complete(&claim).await.unwrap();
        assert_eq!(claim.job.recipe, job.recipe);
    }
    let replay = post_github(&server, "release", "d-2", &body, Some(signature.clone())).await;
    assert_eq!(replay.status(), 202);
    let answer: Value = replay.json().await.unwrap();
    assert_eq!(answer["outcome"], "replayed", "{answer}");
    assert_eq!(server.jobs().await.len(), 2, "a replay queued a job");

    // A new delivery of the same event is a new trigger.
    let again = post_github(&server, "release", "d-3", &body, Some(signature)).await;
    assert_eq!(again.status(), 202);
    assert_eq!(server.jobs().await.len(), 4);
}

async fn refused_github_deliveries_queue_nothing(backend: TestBackend) {
    let server = start(backend).await;
    let body = release_body("example-os/live-iso", "v26.04");
    let good = github_signature(GITHUB_SECRET, &body);
    let mut tampered = body.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 0x20;
    let sha1_only = {
        let response = server
            .http
            .post(format!("{}/hooks/github", server.url))
            .header("X-GitHub-Event", "release")
            .header("X-GitHub-Delivery", "d-sha1")
            .header(
                "X-Hub-Signature",
                "sha1=0123456789abcdef0123456789abcdef01234567",
            )
            .body(body.clone())
            .send()
            .await
            .unwrap();
        response.status().as_u16()
    };
    assert_eq!(sha1_only, 401, "sha1-only signature");

    // (case, body, signature header, event, expected status)
    type Case<'a> = (&'a str, Vec<u8>, Option<String>, &'a str, u16);
    let cases: Vec<Case> = vec![
        ("missing signature", body.clone(), None, "release", 401),
        (
            "wrong secret",
            body.clone(),
            Some(github_signature("not the secret", &body)),
            "release",
            401,
        ),
        (
            "tampered body",
            tampered,
            Some(good.clone()),
            "release",
            401,
        ),
        (
            "malformed JSON",
            b"{\"action\": ".to_vec(),
            Some(github_signature(GITHUB_SECRET, b"{\"action\": ")),
            "release",
            400,
        ),
        (
            "unknown event",
            body.clone(),
            Some(good.clone()),
            "sponsorship-of-doom",
            400,
        ),
    ];
    for (case, body, signature, event, status) in cases {
        let response = post_github(&server, event, &format!("d-{case}"), &body, signature).await;
        assert_eq!(response.status().as_u16(), status, "{case}");
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        assert!(answer["error"].is_string(), "{case}: {answer}");
        assert!(
            !answer.to_string().contains(GITHUB_SECRET),
            "{case} leaks the secret"
        );
    }

    // Larger than the limit: refused before anything is read into a job.
    let huge = vec![b' '; repack_server::webhooks::MAX_BODY_BYTES + 1];
    let signature = github_signature(GITHUB_SECRET, &huge);
    let response = post_github(&server, "release", "d-huge", &huge, Some(signature)).await;
    assert_eq!(response.status(), 413);

    assert!(
        server.jobs().await.is_empty(),
        "a refused delivery queued a job"
    );
}

async fn a_gitlab_tag_push_queues_its_recipe(backend: TestBackend) {
    let server = start(backend).await;
    let body = serde_json::to_vec(&json!({
        "object_kind": "tag_push",
        "event_name": "tag_push",
        "before": "0000000000000000000000000000000000000000",
        "after": "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7",
        "ref": "refs/tags/v2026.12.01",
        "checkout_sha": "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7",
        "project_id": 1,
        "project": { "id": 1, "name": "releng", "path_with_namespace": "archlinux/releng" },
        "repository": { "name": "releng" }
    }))
    .unwrap();
    let send = |token: &'static str| {
        server
            .http
            .post(format!("{}/hooks/gitlab", server.url))
            .header("X-Gitlab-Event", "Tag Push Hook")
            .header("X-Gitlab-Event-UUID", "g-1")
            .header("X-Gitlab-Webhook-UUID", "hook-1")
            .header("X-Gitlab-Token", token)
            .body(body.clone())
            .send()
    };
    let wrong = send("gitlab-shared-token-0124").await.unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(server.jobs().await.is_empty());
    let good = send(GITLAB_TOKEN).await.unwrap();
    assert_eq!(good.status(), 202);
    let jobs = server.jobs().await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].recipe, "arch-live");
}

async fn a_forgejo_release_queues_its_recipe(backend: TestBackend) {
    let server = start(backend).await;
    let body = serde_json::to_vec(&json!({
        "action": "published",
        "release": { "id": 3, "tag_name": "43.1", "draft": false, "prerelease": false },
        "repository": { "id": 9, "full_name": "fedora/kiwi", "name": "kiwi" },
        "sender": { "login": "releng" }
    }))
    .unwrap();
    let response = server
        .http
        .post(format!("{}/hooks/forgejo", server.url))
        .header("X-Forgejo-Event", "release")
        .header("X-Forgejo-Delivery", "f-1")
        .header("X-Forgejo-Signature", hmac_hex(FORGEJO_SECRET, &body))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let jobs = server.jobs().await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].recipe, "fedora-live");
}

async fn a_ping_or_an_unwatched_repository_is_accepted_and_queues_nothing(backend: TestBackend) {
    let server = start(backend).await;
    let ping = serde_json::to_vec(&json!({
        "zen": "Keep it logically awesome.", "hook_id": 1,
        "hook": { "type": "Repository", "id": 1, "events": ["release", "create"] },
        "repository": { "full_name": "example-os/live-iso" }
    }))
    .unwrap();
    let response = post_github(
        &server,
        "ping",
        "p-1",
        &ping,
        Some(github_signature(GITHUB_SECRET, &ping)),
    )
    .await;
    assert!(response.status().is_success(), "{}", response.status());
    let body = release_body("someone-else/other", "v1");
    let response = post_github(
        &server,
        "release",
        "u-1",
        &body,
        Some(github_signature(GITHUB_SECRET, &body)),
    )
    .await;
    assert_eq!(response.status(), 202);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["outcome"], "ignored", "{answer}");
    assert!(server.jobs().await.is_empty());

    // A forge without a secret is not listening at all.
    let server = start_with(TestBackend::Sqlite, |settings| {
        settings.secrets.gitlab = None
    })
    .await;
    let response = server
        .http
        .post(format!("{}/hooks/gitlab", server.url))
        .header("X-Gitlab-Event", "Tag Push Hook")
        .header("X-Gitlab-Token", GITLAB_TOKEN)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}
