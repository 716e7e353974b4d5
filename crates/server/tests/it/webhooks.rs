//! `repack_server::webhooks::receive` against deliveries shaped like each forge's: headers as
//! the forge sends them, bodies from `tests/fixtures/webhooks/` (trimmed copies of the
//! documented payloads with their noise fields), signed with the test secret.

use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use proptest::prelude::*;
use repack_server::webhooks::{
    Delivery, Event, Forge, MAX_BODY_BYTES, WebhookError, WebhookSecret, receive,
};
use sha2::Sha256;

const SECRET: &str = "wh-9c4e1f07b2d8-test-secret";
const OTHER_SECRET: &str = "wh-0000-not-the-configured-one";
const GITHUB_DELIVERY: &str = "5e3f1a80-8b2c-11f1-9a4e-2fd0c1b7e6a3";
const GITLAB_IDEMPOTENCY_KEY: &str = "f2b6c1d4-2a9e-4c7b-8f31-6d0e5a9b7c14";
const GITLAB_EVENT_UUID: &str = "0c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f";
const FORGEJO_DELIVERY: &str = "a41f6c2e-0d3b-4e8a-b7c9-5f1e2d3c4b5a";

fn secret() -> WebhookSecret {
    WebhookSecret::new(SECRET).unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/webhooks")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fixture with `from` replaced by `to` (which must occur).
fn edited(name: &str, from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(fixture(name)).unwrap();
    assert!(text.contains(from), "{name} has no `{from}`");
    text.replacen(from, to, 1).into_bytes()
}

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn header_map(pairs: &[(&str, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

/// The headers GitHub sends with a delivery of `event` signed with `secret`.
fn github_headers_with(event: &str, body: &[u8], secret: &str) -> HeaderMap {
    header_map(&[
        ("Content-Type", "application/json".into()),
        ("User-Agent", "GitHub-Hookshot/9f2c4e1".into()),
        ("X-GitHub-Delivery", GITHUB_DELIVERY.into()),
        ("X-GitHub-Event", event.into()),
        ("X-GitHub-Hook-ID", "512930187".into()),
        ("X-GitHub-Hook-Installation-Target-ID", "763158442".into()),
        (
            "X-GitHub-Hook-Installation-Target-Type",
            "repository".into(),
        ),
        (
            "X-Hub-Signature",
            "sha1=4c0b9d2e7f1a6358e0c4b7d9a2f1e6c3b8d05a7e".into(),
        ),
        (
            "X-Hub-Signature-256",
            format!("sha256={}", hmac_hex(secret, body)),
        ),
    ])
}

fn github_headers(event: &str, body: &[u8]) -> HeaderMap {
    github_headers_with(event, body, SECRET)
}

/// The headers GitLab sends with a delivery of `event` carrying `token`.
fn gitlab_headers_with(event: &str, token: &str) -> HeaderMap {
    header_map(&[
        ("Content-Type", "application/json".into()),
        ("User-Agent", "GitLab/18.3.1".into()),
        ("Idempotency-Key", GITLAB_IDEMPOTENCY_KEY.into()),
        ("X-Gitlab-Event", event.into()),
        (
            "X-Gitlab-Webhook-UUID",
            "6e5d4c3b-2a19-4807-b6a5-f4e3d2c1b0a9".into(),
        ),
        ("X-Gitlab-Instance", "https://gitlab.example.org".into()),
        ("X-Gitlab-Token", token.into()),
        ("X-Gitlab-Event-UUID", GITLAB_EVENT_UUID.into()),
    ])
}

fn gitlab_headers(event: &str) -> HeaderMap {
    gitlab_headers_with(event, SECRET)
}

/// The headers Forgejo sends with a delivery of `event` signed with `secret`: its own, and
/// the Gitea, Gogs and GitHub compatibility ones.
fn forgejo_headers_with(event: &str, body: &[u8], secret: &str) -> HeaderMap {
    let signature = hmac_hex(secret, body);
    header_map(&[
        ("Content-Type", "application/json".into()),
        ("User-Agent", "Go-http-client/1.1".into()),
        ("X-Forgejo-Delivery", FORGEJO_DELIVERY.into()),
        ("X-Forgejo-Event", event.into()),
        ("X-Forgejo-Event-Type", event.into()),
        ("X-Forgejo-Signature", signature.clone()),
        ("X-Gitea-Delivery", FORGEJO_DELIVERY.into()),
        ("X-Gitea-Event", event.into()),
        ("X-Gitea-Event-Type", event.into()),
        ("X-Gitea-Signature", signature.clone()),
        ("X-Gogs-Delivery", FORGEJO_DELIVERY.into()),
        ("X-Gogs-Event", event.into()),
        ("X-Gogs-Event-Type", event.into()),
        ("X-Gogs-Signature", signature.clone()),
        (
            "X-Hub-Signature",
            "sha1=9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b".into(),
        ),
        ("X-Hub-Signature-256", format!("sha256={signature}")),
        ("X-GitHub-Delivery", FORGEJO_DELIVERY.into()),
        ("X-GitHub-Event", event.into()),
        ("X-GitHub-Event-Type", event.into()),
    ])
}

fn forgejo_headers(event: &str, body: &[u8]) -> HeaderMap {
    forgejo_headers_with(event, body, SECRET)
}

/// The headers Gitea sends: no `X-Forgejo-*`.
fn gitea_headers(event: &str, body: &[u8]) -> HeaderMap {
    let mut headers = forgejo_headers(event, body);
    for name in [
        "X-Forgejo-Delivery",
        "X-Forgejo-Event",
        "X-Forgejo-Event-Type",
        "X-Forgejo-Signature",
    ] {
        headers.remove(name);
    }
    headers
}

fn without(mut headers: HeaderMap, names: &[&str]) -> HeaderMap {
    for name in names {
        assert!(headers.remove(*name).is_some(), "no {name} to remove");
    }
    headers
}

fn with(mut headers: HeaderMap, name: &str, value: &str) -> HeaderMap {
    headers.insert(
        HeaderName::from_bytes(name.as_bytes()).unwrap(),
        HeaderValue::from_str(value).unwrap(),
    );
    headers
}

fn accepted(forge: Forge, headers: &HeaderMap, body: &[u8]) -> Delivery {
    receive(forge, headers, body, &secret()).unwrap_or_else(|e| panic!("refused: {e}"))
}

fn event_of(forge: Forge, headers: &HeaderMap, body: &[u8]) -> Event {
    accepted(forge, headers, body).event
}

/// Asserts the delivery is refused with `status` and `kind`, and returns the error.
fn refused(
    forge: Forge,
    headers: &HeaderMap,
    body: &[u8],
    status: StatusCode,
    kind: &str,
) -> WebhookError {
    match receive(forge, headers, body, &secret()) {
        Ok(delivery) => panic!("accepted: {delivery:?}"),
        Err(error) => {
            assert_eq!(
                (error.status(), error.kind()),
                (status, kind),
                "error: {error}"
            );
            error
        }
    }
}

fn release(repository: &str, tag: &str, prerelease: bool) -> Event {
    Event::Release {
        repository: repository.into(),
        tag: tag.into(),
        prerelease,
    }
}

fn tag(repository: &str, tag: &str) -> Event {
    Event::Tag {
        repository: repository.into(),
        tag: tag.into(),
    }
}

fn is_ignored(event: &Event, name: &str) -> bool {
    matches!(event, Event::Ignored { event, .. } if event == name)
}

// ---------------------------------------------------------------------------------------
// GitHub

#[test]
fn github_published_release_is_a_release_with_the_delivery_id() {
    let body = fixture("github-release-published.json");
    let delivery = accepted(Forge::GitHub, &github_headers("release", &body), &body);
    assert_eq!(
        delivery,
        Delivery {
            forge: Forge::GitHub,
            id: GITHUB_DELIVERY.into(),
            event: release("netboot-lab/live-images", "v24.04.1", false),
        }
    );
}

#[test]
fn github_published_prerelease_reports_prerelease() {
    let body = edited(
        "github-release-published.json",
        "\"prerelease\": false",
        "\"prerelease\": true",
    );
    assert_eq!(
        event_of(Forge::GitHub, &github_headers("release", &body), &body),
        release("netboot-lab/live-images", "v24.04.1", true)
    );
}

#[test]
fn github_released_action_is_a_release() {
    let body = edited(
        "github-release-published.json",
        "\"action\": \"published\"",
        "\"action\": \"released\"",
    );
    assert_eq!(
        event_of(Forge::GitHub, &github_headers("release", &body), &body),
        release("netboot-lab/live-images", "v24.04.1", false)
    );
}

#[test]
fn github_release_actions_other_than_published_and_released_are_ignored() {
    for action in ["created", "prereleased", "edited", "deleted", "unpublished"] {
        let body = edited(
            "github-release-published.json",
            "\"action\": \"published\"",
            &format!("\"action\": \"{action}\""),
        );
        let event = event_of(Forge::GitHub, &github_headers("release", &body), &body);
        assert!(is_ignored(&event, "release"), "{action}: {event:?}");
    }
}

#[test]
fn github_published_draft_is_ignored() {
    let body = edited(
        "github-release-published.json",
        "\"draft\": false",
        "\"draft\": true",
    );
    let event = event_of(Forge::GitHub, &github_headers("release", &body), &body);
    assert!(is_ignored(&event, "release"), "{event:?}");
}

#[test]
fn github_created_tag_is_a_tag() {
    let body = fixture("github-create-tag.json");
    assert_eq!(
        event_of(Forge::GitHub, &github_headers("create", &body), &body),
        tag("netboot-lab/live-images", "v24.04.1")
    );
}

#[test]
fn github_created_branch_is_ignored() {
    let body = fixture("github-create-branch.json");
    let event = event_of(Forge::GitHub, &github_headers("create", &body), &body);
    assert!(is_ignored(&event, "create"), "{event:?}");
}

#[test]
fn github_pushed_tag_is_a_tag() {
    let body = fixture("github-push-tag.json");
    assert_eq!(
        event_of(Forge::GitHub, &github_headers("push", &body), &body),
        tag("netboot-lab/live-images", "v24.04.1")
    );
}

#[test]
fn github_tag_deletion_is_ignored() {
    let body = edited(
        "github-push-tag.json",
        "\"deleted\": false",
        "\"deleted\": true",
    );
    let event = event_of(Forge::GitHub, &github_headers("push", &body), &body);
    assert!(is_ignored(&event, "push"), "{event:?}");
    let delete = br#"{"ref":"v24.04.1","ref_type":"tag","pusher_type":"user","repository":{"full_name":"netboot-lab/live-images"}}"#;
    let event = event_of(Forge::GitHub, &github_headers("delete", delete), delete);
    assert!(is_ignored(&event, "delete"), "{event:?}");
}

#[test]
fn github_branch_push_is_ignored() {
    let body = fixture("github-push-branch.json");
    let event = event_of(Forge::GitHub, &github_headers("push", &body), &body);
    assert!(is_ignored(&event, "push"), "{event:?}");
}

#[test]
fn github_ping_is_a_ping() {
    let body = fixture("github-ping.json");
    assert_eq!(
        event_of(Forge::GitHub, &github_headers("ping", &body), &body),
        Event::Ping
    );
}

#[test]
fn github_other_known_events_are_ignored() {
    let body = br#"{"action":"opened","issue":{"number":7},"repository":{"full_name":"netboot-lab/live-images"}}"#;
    let event = event_of(Forge::GitHub, &github_headers("issues", body), body);
    assert!(is_ignored(&event, "issues"), "{event:?}");
}

/// "Validating webhook deliveries" gives this secret, payload and signature to check an
/// implementation against. The signature verifies, so the refusal comes from the body not
/// being JSON.
#[test]
fn github_documented_test_vector_verifies() {
    let headers = header_map(&[
        ("X-GitHub-Delivery", GITHUB_DELIVERY.into()),
        ("X-GitHub-Event", "ping".into()),
        (
            "X-Hub-Signature-256",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17".into(),
        ),
    ]);
    let secret = WebhookSecret::new("It's a Secret to Everybody").unwrap();
    let error = receive(Forge::GitHub, &headers, b"Hello, World!", &secret).unwrap_err();
    assert_eq!(error.kind(), "webhook-payload-malformed", "{error}");
    let error = receive(Forge::GitHub, &headers, b"Hello, World?", &secret).unwrap_err();
    assert_eq!(error.kind(), "webhook-signature-mismatch", "{error}");
}

#[test]
fn github_uppercase_hex_signature_verifies() {
    let body = fixture("github-ping.json");
    let signature = format!("sha256={}", hmac_hex(SECRET, &body).to_uppercase());
    let headers = with(
        github_headers("ping", &body),
        "X-Hub-Signature-256",
        &signature,
    );
    assert_eq!(event_of(Forge::GitHub, &headers, &body), Event::Ping);
}

#[test]
fn github_sha1_only_is_refused_asking_for_sha256() {
    let body = fixture("github-ping.json");
    let headers = without(github_headers("ping", &body), &["X-Hub-Signature-256"]);
    let error = refused(
        Forge::GitHub,
        &headers,
        &body,
        StatusCode::UNAUTHORIZED,
        "webhook-signature-sha1-only",
    );
    assert!(error.to_string().contains("X-Hub-Signature-256"), "{error}");
    assert!(error.to_string().contains("SHA256"), "{error}");
}

#[test]
fn github_signature_without_prefix_is_malformed() {
    let body = fixture("github-ping.json");
    let headers = with(
        github_headers("ping", &body),
        "X-Hub-Signature-256",
        &hmac_hex(SECRET, &body),
    );
    let error = refused(
        Forge::GitHub,
        &headers,
        &body,
        StatusCode::UNAUTHORIZED,
        "webhook-signature-malformed",
    );
    assert!(error.to_string().contains("sha256="), "{error}");
}

// ---------------------------------------------------------------------------------------
// GitLab

#[test]
fn gitlab_tag_push_is_a_tag_with_the_nested_path_and_the_idempotency_key() {
    let body = fixture("gitlab-tag-push.json");
    let delivery = accepted(Forge::GitLab, &gitlab_headers("Tag Push Hook"), &body);
    assert_eq!(
        delivery,
        Delivery {
            forge: Forge::GitLab,
            id: GITLAB_IDEMPOTENCY_KEY.into(),
            event: tag("distro-team/images/live-iso", "2026.09.0"),
        }
    );
}

#[test]
fn gitlab_without_idempotency_key_uses_the_event_uuid() {
    let body = fixture("gitlab-tag-push.json");
    let headers = without(gitlab_headers("Tag Push Hook"), &["Idempotency-Key"]);
    assert_eq!(
        accepted(Forge::GitLab, &headers, &body).id,
        GITLAB_EVENT_UUID
    );
}

#[test]
fn gitlab_tag_deletion_is_ignored() {
    let body = fixture("gitlab-tag-push-deleted.json");
    let event = event_of(Forge::GitLab, &gitlab_headers("Tag Push Hook"), &body);
    assert!(is_ignored(&event, "Tag Push Hook"), "{event:?}");
}

#[test]
fn gitlab_created_release_is_a_release() {
    let body = fixture("gitlab-release-create.json");
    assert_eq!(
        event_of(Forge::GitLab, &gitlab_headers("Release Hook"), &body),
        release("distro-team/images/live-iso", "2026.09.0", false)
    );
}

#[test]
fn gitlab_updated_and_deleted_releases_are_ignored() {
    for action in ["update", "delete"] {
        let body = edited(
            "gitlab-release-create.json",
            "\"action\": \"create\"",
            &format!("\"action\": \"{action}\""),
        );
        let event = event_of(Forge::GitLab, &gitlab_headers("Release Hook"), &body);
        assert!(is_ignored(&event, "Release Hook"), "{action}: {event:?}");
    }
}

#[test]
fn gitlab_branch_push_is_ignored() {
    let body = fixture("gitlab-push.json");
    let event = event_of(Forge::GitLab, &gitlab_headers("Push Hook"), &body);
    assert!(is_ignored(&event, "Push Hook"), "{event:?}");
}

#[test]
fn gitlab_object_kind_disagreeing_with_the_header_is_refused() {
    let body = fixture("gitlab-push.json");
    let error = refused(
        Forge::GitLab,
        &gitlab_headers("Tag Push Hook"),
        &body,
        StatusCode::BAD_REQUEST,
        "webhook-field-invalid",
    );
    assert!(error.to_string().contains("object_kind"), "{error}");
}

#[test]
fn gitlab_tag_push_of_a_branch_ref_is_refused() {
    let body = edited(
        "gitlab-tag-push.json",
        "\"refs/tags/2026.09.0\"",
        "\"refs/heads/main\"",
    );
    let error = refused(
        Forge::GitLab,
        &gitlab_headers("Tag Push Hook"),
        &body,
        StatusCode::BAD_REQUEST,
        "webhook-field-invalid",
    );
    assert!(error.to_string().contains("`ref`"), "{error}");
}

#[test]
fn gitlab_token_that_is_only_a_prefix_or_extension_of_the_secret_is_refused() {
    let body = fixture("gitlab-tag-push.json");
    let too_short = &SECRET[..SECRET.len() - 1];
    let too_long = format!("{SECRET}x");
    for token in [too_short, too_long.as_str(), OTHER_SECRET] {
        refused(
            Forge::GitLab,
            &gitlab_headers_with("Tag Push Hook", token),
            &body,
            StatusCode::UNAUTHORIZED,
            "webhook-signature-mismatch",
        );
    }
}

// ---------------------------------------------------------------------------------------
// Forgejo and Gitea

#[test]
fn forgejo_published_release_is_a_release_with_the_delivery_id() {
    let body = fixture("forgejo-release-published.json");
    let delivery = accepted(Forge::Forgejo, &forgejo_headers("release", &body), &body);
    assert_eq!(
        delivery,
        Delivery {
            forge: Forge::Forgejo,
            id: FORGEJO_DELIVERY.into(),
            event: release("netboot-lab/live-images", "v24.04.1", false),
        }
    );
}

#[test]
fn forgejo_updated_and_deleted_releases_are_ignored() {
    for action in ["updated", "deleted"] {
        let body = edited(
            "forgejo-release-published.json",
            "\"action\": \"published\"",
            &format!("\"action\": \"{action}\""),
        );
        let event = event_of(Forge::Forgejo, &forgejo_headers("release", &body), &body);
        assert!(is_ignored(&event, "release"), "{action}: {event:?}");
    }
}

#[test]
fn forgejo_created_tag_and_pushed_tag_are_both_tags() {
    for (name, event_name) in [
        ("forgejo-create-tag.json", "create"),
        ("forgejo-push-tag.json", "push"),
    ] {
        let body = fixture(name);
        assert_eq!(
            event_of(Forge::Forgejo, &forgejo_headers(event_name, &body), &body),
            tag("netboot-lab/live-images", "v24.04.1"),
            "{name}"
        );
    }
}

#[test]
fn forgejo_tag_deletion_is_ignored() {
    for (name, event_name) in [
        ("forgejo-push-tag-deleted.json", "push"),
        ("forgejo-delete-tag.json", "delete"),
    ] {
        let body = fixture(name);
        let event = event_of(Forge::Forgejo, &forgejo_headers(event_name, &body), &body);
        assert!(is_ignored(&event, event_name), "{name}: {event:?}");
    }
}

#[test]
fn forgejo_branch_push_and_created_branch_are_ignored() {
    let body = fixture("forgejo-push-branch.json");
    let event = event_of(Forge::Forgejo, &forgejo_headers("push", &body), &body);
    assert!(is_ignored(&event, "push"), "{event:?}");
    let body = edited(
        "forgejo-create-tag.json",
        "\"ref_type\": \"tag\"",
        "\"ref_type\": \"branch\"",
    );
    let event = event_of(Forge::Forgejo, &forgejo_headers("create", &body), &body);
    assert!(is_ignored(&event, "create"), "{event:?}");
}

#[test]
fn gitea_headers_alone_are_accepted() {
    let body = fixture("forgejo-release-published.json");
    let delivery = accepted(Forge::Forgejo, &gitea_headers("release", &body), &body);
    assert_eq!(delivery.id, FORGEJO_DELIVERY);
    assert_eq!(
        delivery.event,
        release("netboot-lab/live-images", "v24.04.1", false)
    );
    assert_eq!(Forge::from_name("gitea"), Some(Forge::Forgejo));
}

#[test]
fn forgejo_bad_forgejo_signature_is_not_rescued_by_a_good_gitea_one() {
    let body = fixture("forgejo-release-published.json");
    let headers = with(
        forgejo_headers("release", &body),
        "X-Forgejo-Signature",
        &hmac_hex(OTHER_SECRET, &body),
    );
    let error = refused(
        Forge::Forgejo,
        &headers,
        &body,
        StatusCode::UNAUTHORIZED,
        "webhook-signature-mismatch",
    );
    assert!(error.to_string().contains("X-Forgejo-Signature"), "{error}");
}

#[test]
fn forgejo_empty_signature_of_a_hook_without_secret_is_missing() {
    let body = fixture("forgejo-push-tag.json");
    let headers = with(
        with(forgejo_headers("push", &body), "X-Forgejo-Signature", ""),
        "X-Gitea-Signature",
        "",
    );
    refused(
        Forge::Forgejo,
        &headers,
        &body,
        StatusCode::UNAUTHORIZED,
        "webhook-signature-missing",
    );
}

#[test]
fn forgejo_signature_with_a_github_prefix_is_malformed() {
    let body = fixture("forgejo-push-tag.json");
    let headers = with(
        forgejo_headers("push", &body),
        "X-Forgejo-Signature",
        &format!("sha256={}", hmac_hex(SECRET, &body)),
    );
    refused(
        Forge::Forgejo,
        &headers,
        &body,
        StatusCode::UNAUTHORIZED,
        "webhook-signature-malformed",
    );
}

// ---------------------------------------------------------------------------------------
// Refusals common to the forges

/// One valid delivery per forge: (forge, headers signed with `secret`, body).
fn signed_deliveries(secret: &str) -> Vec<(Forge, HeaderMap, Vec<u8>)> {
    let github = fixture("github-release-published.json");
    let gitlab = fixture("gitlab-tag-push.json");
    let forgejo = fixture("forgejo-release-published.json");
    vec![
        (
            Forge::GitHub,
            github_headers_with("release", &github, secret),
            github,
        ),
        (
            Forge::GitLab,
            gitlab_headers_with("Tag Push Hook", secret),
            gitlab,
        ),
        (
            Forge::Forgejo,
            forgejo_headers_with("release", &forgejo, secret),
            forgejo,
        ),
    ]
}

/// The headers that carry the signature or token, per forge.
fn signature_headers(forge: Forge) -> &'static [&'static str] {
    match forge {
        Forge::GitHub => &["X-Hub-Signature-256", "X-Hub-Signature"],
        Forge::GitLab => &["X-Gitlab-Token"],
        _ => &["X-Forgejo-Signature", "X-Gitea-Signature"],
    }
}

#[test]
fn the_signed_deliveries_used_below_are_accepted() {
    for (forge, headers, body) in signed_deliveries(SECRET) {
        accepted(forge, &headers, &body);
    }
}

#[test]
fn wrong_secret_is_unauthorized() {
    for (forge, headers, body) in signed_deliveries(OTHER_SECRET) {
        refused(
            forge,
            &headers,
            &body,
            StatusCode::UNAUTHORIZED,
            "webhook-signature-mismatch",
        );
    }
}

#[test]
fn missing_signature_is_unauthorized() {
    for (forge, headers, body) in signed_deliveries(SECRET) {
        let headers = without(headers, signature_headers(forge));
        refused(
            forge,
            &headers,
            &body,
            StatusCode::UNAUTHORIZED,
            "webhook-signature-missing",
        );
    }
}

#[test]
fn body_changed_after_signing_is_unauthorized() {
    for (forge, headers, mut body) in signed_deliveries(SECRET) {
        if forge == Forge::GitLab {
            continue; // GitLab's token does not cover the body.
        }
        let at = body.len() / 2;
        body[at] ^= 0x01;
        refused(
            forge,
            &headers,
            &body,
            StatusCode::UNAUTHORIZED,
            "webhook-signature-mismatch",
        );
    }
}

#[test]
fn malformed_signatures_are_unauthorized() {
    let body = fixture("github-ping.json");
    let good = hmac_hex(SECRET, &body);
    let bad = [
        format!("sha256={}", &good[..62]),
        format!("sha256={good}00"),
        format!("sha256={}zz", &good[..62]),
        "sha256=".to_owned(),
        format!("sha1={good}"),
    ];
    for value in &bad {
        let headers = with(github_headers("ping", &body), "X-Hub-Signature-256", value);
        refused(
            Forge::GitHub,
            &headers,
            &body,
            StatusCode::UNAUTHORIZED,
            "webhook-signature-malformed",
        );
    }
    let body = fixture("forgejo-push-tag.json");
    for value in ["abc", &good[..63], &format!("{}g", &good[..63])] {
        let headers = with(forgejo_headers("push", &body), "X-Forgejo-Signature", value);
        refused(
            Forge::Forgejo,
            &headers,
            &body,
            StatusCode::UNAUTHORIZED,
            "webhook-signature-malformed",
        );
    }
}

#[test]
fn repeated_signature_header_is_unauthorized() {
    for (forge, mut headers, body) in signed_deliveries(SECRET) {
        let name = signature_headers(forge)[0];
        let value = headers.get(name).unwrap().clone();
        headers.append(HeaderName::from_bytes(name.as_bytes()).unwrap(), value);
        refused(
            forge,
            &headers,
            &body,
            StatusCode::UNAUTHORIZED,
            "webhook-signature-malformed",
        );
    }
}

#[test]
fn oversized_body_is_refused_before_authentication() {
    let mut body = fixture("github-ping.json");
    body.resize(MAX_BODY_BYTES + 1, b' ');
    for forge in [Forge::GitHub, Forge::GitLab, Forge::Forgejo] {
        for headers in [HeaderMap::new(), github_headers("ping", &body)] {
            let error = refused(
                forge,
                &headers,
                &body,
                StatusCode::PAYLOAD_TOO_LARGE,
                "webhook-body-too-large",
            );
            assert_eq!(
                error,
                WebhookError::BodyTooLarge {
                    size: MAX_BODY_BYTES + 1,
                    limit: MAX_BODY_BYTES
                }
            );
        }
    }
}

#[test]
fn body_of_exactly_the_limit_is_read() {
    let mut body = fixture("github-ping.json");
    body.resize(MAX_BODY_BYTES, b' ');
    assert_eq!(
        event_of(Forge::GitHub, &github_headers("ping", &body), &body),
        Event::Ping
    );
}

#[test]
fn malformed_json_is_a_bad_request_naming_the_position_only() {
    let cases: [&[u8]; 4] = [
        b"{\"action\": \"published\", \"release\": {",
        b"payload=%7B%22action%22%3A%22published%22%7D",
        b"[{\"action\": \"published\"}]",
        b"",
    ];
    for body in cases {
        for (forge, headers) in [
            (Forge::GitHub, github_headers("release", body)),
            (Forge::GitLab, gitlab_headers("Release Hook")),
            (Forge::Forgejo, forgejo_headers("release", body)),
        ] {
            let error = refused(
                forge,
                &headers,
                body,
                StatusCode::BAD_REQUEST,
                "webhook-payload-malformed",
            );
            assert!(!error.to_string().contains("published"), "{error}");
        }
    }
}

#[test]
fn form_encoded_body_is_unsupported_media_type() {
    let body = b"payload=%7B%22zen%22%3A%22x%22%7D";
    let headers = with(
        github_headers("ping", body),
        "Content-Type",
        "application/x-www-form-urlencoded",
    );
    let error = refused(
        Forge::GitHub,
        &headers,
        body,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "webhook-content-type",
    );
    assert!(error.to_string().contains("application/json"), "{error}");
}

#[test]
fn json_content_type_with_parameters_is_accepted() {
    let body = fixture("github-ping.json");
    let headers = with(
        github_headers("ping", &body),
        "Content-Type",
        "Application/JSON; charset=utf-8",
    );
    assert_eq!(event_of(Forge::GitHub, &headers, &body), Event::Ping);
}

#[test]
fn missing_field_is_a_bad_request_naming_the_field() {
    let cases = [
        (
            Forge::GitHub,
            "release",
            edited(
                "github-release-published.json",
                "\"tag_name\"",
                "\"tag_label\"",
            ),
            "release.tag_name",
        ),
        (
            Forge::GitLab,
            "Tag Push Hook",
            edited(
                "gitlab-tag-push.json",
                "\"path_with_namespace\"",
                "\"path\"",
            ),
            "project.path_with_namespace",
        ),
        (
            Forge::Forgejo,
            "create",
            edited("forgejo-create-tag.json", "\"ref_type\"", "\"kind\""),
            "ref_type",
        ),
    ];
    for (forge, event_name, body, field) in cases {
        let headers = match forge {
            Forge::GitHub => github_headers(event_name, &body),
            Forge::GitLab => gitlab_headers(event_name),
            _ => forgejo_headers(event_name, &body),
        };
        let error = refused(
            forge,
            &headers,
            &body,
            StatusCode::BAD_REQUEST,
            "webhook-field-missing",
        );
        assert_eq!(error, WebhookError::FieldMissing { field });
        assert!(error.to_string().contains(field), "{error}");
    }
}

#[test]
fn mistyped_field_is_a_bad_request_naming_the_field() {
    let body = edited(
        "github-release-published.json",
        "\"prerelease\": false",
        "\"prerelease\": \"no\"",
    );
    let error = refused(
        Forge::GitHub,
        &github_headers("release", &body),
        &body,
        StatusCode::BAD_REQUEST,
        "webhook-field-invalid",
    );
    assert!(error.to_string().contains("release.prerelease"), "{error}");
}

#[test]
fn unknown_event_is_a_bad_request_naming_it() {
    let body = fixture("github-ping.json");
    for (forge, headers) in [
        (Forge::GitHub, github_headers("deploy_everything", &body)),
        (Forge::GitLab, gitlab_headers("Deploy Everything Hook")),
        (Forge::Forgejo, forgejo_headers("deploy_everything", &body)),
    ] {
        let error = refused(
            forge,
            &headers,
            &body,
            StatusCode::BAD_REQUEST,
            "webhook-event-unknown",
        );
        assert!(error.to_string().contains("eploy"), "{error}");
    }
}

#[test]
fn event_names_are_case_sensitive() {
    let body = fixture("github-ping.json");
    refused(
        Forge::GitHub,
        &github_headers("Ping", &body),
        &body,
        StatusCode::BAD_REQUEST,
        "webhook-event-unknown",
    );
}

#[test]
fn missing_event_header_is_a_bad_request() {
    for (forge, headers, body) in signed_deliveries(SECRET) {
        let names: &[&str] = match forge {
            Forge::GitHub => &["X-GitHub-Event"],
            Forge::GitLab => &["X-Gitlab-Event"],
            _ => &["X-Forgejo-Event", "X-Gitea-Event"],
        };
        refused(
            forge,
            &without(headers, names),
            &body,
            StatusCode::BAD_REQUEST,
            "webhook-event-missing",
        );
    }
}

#[test]
fn missing_delivery_id_is_a_bad_request() {
    for (forge, headers, body) in signed_deliveries(SECRET) {
        let names: &[&str] = match forge {
            Forge::GitHub => &["X-GitHub-Delivery"],
            Forge::GitLab => &["Idempotency-Key", "X-Gitlab-Event-UUID"],
            _ => &["X-Forgejo-Delivery", "X-Gitea-Delivery"],
        };
        let error = refused(
            forge,
            &without(headers, names),
            &body,
            StatusCode::BAD_REQUEST,
            "webhook-delivery-id-missing",
        );
        assert!(error.to_string().contains(names[0]), "{error}");
    }
}

#[test]
fn unusable_delivery_id_is_a_bad_request() {
    let body = fixture("github-ping.json");
    let long = "d".repeat(129);
    for id in [long.as_str(), "two words", ""] {
        let headers = with(github_headers("ping", &body), "X-GitHub-Delivery", id);
        refused(
            Forge::GitHub,
            &headers,
            &body,
            StatusCode::BAD_REQUEST,
            "webhook-delivery-id-invalid",
        );
    }
    let ok = "d".repeat(128);
    let headers = with(github_headers("ping", &body), "X-GitHub-Delivery", &ok);
    assert_eq!(accepted(Forge::GitHub, &headers, &body).id, ok);
}

#[test]
fn repeated_delivery_id_is_a_bad_request() {
    let body = fixture("github-ping.json");
    let mut headers = github_headers("ping", &body);
    headers.append("x-github-delivery", HeaderValue::from_static("another"));
    refused(
        Forge::GitHub,
        &headers,
        &body,
        StatusCode::BAD_REQUEST,
        "webhook-header-repeated",
    );
}

#[test]
fn untrusted_repository_names_are_refused() {
    let names = [
        "netboot-lab",
        "netboot-lab/live-images/extra",
        "netboot-lab/",
        "../live-images",
        "netboot-lab/.hidden",
        "-lab/live-images",
        "netboot lab/live-images",
        "netboot-lab/live-images\\u0000",
        "netb\\u00f6ot-lab/live-images",
    ];
    let long = format!("{}/{}", "o".repeat(200), "r".repeat(60));
    for name in names.iter().copied().chain([long.as_str()]) {
        let body = edited(
            "github-release-published.json",
            "\"full_name\": \"netboot-lab/live-images\"",
            &format!("\"full_name\": \"{name}\""),
        );
        let error = refused(
            Forge::GitHub,
            &github_headers("release", &body),
            &body,
            StatusCode::BAD_REQUEST,
            "webhook-field-invalid",
        );
        assert!(
            error.to_string().contains("repository.full_name"),
            "{error}"
        );
    }
}

#[test]
fn gitlab_path_needs_a_namespace() {
    let body = edited(
        "gitlab-tag-push.json",
        "\"path_with_namespace\": \"distro-team/images/live-iso\"",
        "\"path_with_namespace\": \"live-iso\"",
    );
    refused(
        Forge::GitLab,
        &gitlab_headers("Tag Push Hook"),
        &body,
        StatusCode::BAD_REQUEST,
        "webhook-field-invalid",
    );
}

#[test]
fn invalid_tag_names_are_refused() {
    let long = "v".repeat(256);
    let names = [
        "",
        "v1..2",
        "-rf",
        "v 1",
        "v1:2",
        "v1~1",
        "v1^",
        "v1?",
        "v*",
        "v[1]",
        "v1\\\\2",
        "v1@{1}",
        "@",
        "v1.",
        "v1/",
        "v1//2",
        ".v1",
        "v1/.x",
        "v1.lock",
        "v1\\t",
        "v1\\u007f",
        long.as_str(),
    ];
    for name in names {
        let body = edited(
            "github-create-tag.json",
            "\"ref\": \"v24.04.1\"",
            &format!("\"ref\": \"{name}\""),
        );
        let error = refused(
            Forge::GitHub,
            &github_headers("create", &body),
            &body,
            StatusCode::BAD_REQUEST,
            "webhook-field-invalid",
        );
        assert!(error.to_string().contains("`ref`"), "{name}: {error}");
    }
}

#[test]
fn valid_unusual_tag_names_are_kept() {
    for name in [
        "release/2026.09",
        "v1.0-rc.1+build.7",
        "2026_09_02",
        "ünïcode",
    ] {
        let body = edited(
            "github-create-tag.json",
            "\"ref\": \"v24.04.1\"",
            &format!("\"ref\": \"{name}\""),
        );
        assert_eq!(
            event_of(Forge::GitHub, &github_headers("create", &body), &body),
            tag("netboot-lab/live-images", name)
        );
    }
}

#[test]
fn header_names_match_whatever_their_case() {
    let body = fixture("github-ping.json");
    let headers = header_map(&[
        ("x-github-delivery", GITHUB_DELIVERY.into()),
        ("X-GITHUB-EVENT", "ping".into()),
        (
            "x-hub-SIGNATURE-256",
            format!("sha256={}", hmac_hex(SECRET, &body)),
        ),
    ]);
    assert_eq!(event_of(Forge::GitHub, &headers, &body), Event::Ping);
}

// ---------------------------------------------------------------------------------------
// The secret

#[test]
fn empty_secret_cannot_be_configured() {
    let error = WebhookSecret::new("").unwrap_err();
    assert_eq!(error.kind(), "webhook-secret-empty");
    assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(WebhookSecret::new(Vec::new()).is_err());
}

#[test]
fn secret_debug_is_redacted() {
    let shown = format!("{:?}", secret());
    assert!(shown.contains("<redacted>"), "{shown}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(!shown.contains("9c4e1f07"), "{shown}");
}

/// Every refusal built from deliveries that carry the secret (as a signature key, as a
/// token, as a token with one more byte) and from wrong signatures: no message mentions the
/// secret, the signature sent, or the signature expected.
#[test]
fn no_refusal_message_contains_the_secret_or_a_signature() {
    let mut errors = Vec::new();
    let mut signatures = Vec::new();
    for (forge, headers, body) in signed_deliveries(OTHER_SECRET) {
        signatures.push(hmac_hex(OTHER_SECRET, &body));
        signatures.push(hmac_hex(SECRET, &body));
        errors.push(receive(forge, &headers, &body, &secret()).unwrap_err());
    }
    let body = fixture("gitlab-tag-push.json");
    for token in [
        format!("{SECRET}x"),
        format!("x{SECRET}"),
        SECRET.to_uppercase(),
    ] {
        errors.push(
            receive(
                Forge::GitLab,
                &gitlab_headers_with("Tag Push Hook", &token),
                &body,
                &secret(),
            )
            .unwrap_err(),
        );
    }
    let body = fixture("github-ping.json");
    let good = hmac_hex(SECRET, &body);
    for value in [
        format!("sha256={}", &good[..63]),
        good.clone(),
        format!("sha1={good}"),
    ] {
        let headers = with(github_headers("ping", &body), "X-Hub-Signature-256", &value);
        errors.push(receive(Forge::GitHub, &headers, &body, &secret()).unwrap_err());
    }
    signatures.push(good);
    errors.push(WebhookSecret::new("").unwrap_err());
    assert!(errors.len() >= 10);
    for error in &errors {
        for text in [error.to_string(), format!("{error:?}")] {
            assert!(!text.contains(SECRET), "{text}");
            assert!(!text.contains(OTHER_SECRET), "{text}");
            for signature in &signatures {
                assert!(!text.contains(&signature[..16]), "{text}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Properties

/// Header names the receiver reads, and a few it does not.
fn header_name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "X-GitHub-Event",
        "X-GitHub-Delivery",
        "X-Hub-Signature",
        "X-Hub-Signature-256",
        "X-Gitlab-Event",
        "X-Gitlab-Token",
        "X-Gitlab-Event-UUID",
        "Idempotency-Key",
        "X-Forgejo-Event",
        "X-Forgejo-Delivery",
        "X-Forgejo-Signature",
        "X-Gitea-Event",
        "X-Gitea-Delivery",
        "X-Gitea-Signature",
        "Content-Type",
        "X-Unrelated",
    ])
}

/// Header values: arbitrary bytes (those `http` accepts), names of real events, and
/// signature-shaped strings.
fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..80),
        prop::sample::select(vec![
            "ping",
            "release",
            "create",
            "push",
            "delete",
            "Tag Push Hook",
            "Release Hook",
            "Push Hook",
            "application/json",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        "(sha256=)?[0-9a-fA-F]{0,66}".prop_map(String::into_bytes),
    ]
}

fn forge() -> impl Strategy<Value = Forge> {
    prop::sample::select(vec![Forge::GitHub, Forge::GitLab, Forge::Forgejo])
}

/// Bodies: arbitrary bytes, and fixtures cut short or with one byte replaced.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let fixtures = vec![
        "github-release-published.json",
        "github-create-tag.json",
        "github-push-tag.json",
        "gitlab-tag-push.json",
        "gitlab-release-create.json",
        "forgejo-release-published.json",
        "forgejo-push-tag.json",
    ];
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..600),
        (
            prop::sample::select(fixtures.clone()),
            any::<prop::sample::Index>()
        )
            .prop_map(|(name, cut)| {
                let body = fixture(name);
                body[..cut.index(body.len() + 1)].to_vec()
            }),
        (
            prop::sample::select(fixtures),
            any::<prop::sample::Index>(),
            any::<u8>()
        )
            .prop_map(|(name, at, byte)| {
                let mut body = fixture(name);
                let at = at.index(body.len());
                body[at] = byte;
                body
            }),
    ]
}

/// Signs `body` correctly for `forge` (so the parser is reached) with `event` as the event.
fn correctly_signed(forge: Forge, event: &str, body: &[u8]) -> HeaderMap {
    match forge {
        Forge::GitHub => github_headers(event, body),
        Forge::GitLab => gitlab_headers(event),
        _ => forgejo_headers(event, body),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn arbitrary_deliveries_never_panic(
        forge in forge(),
        pairs in prop::collection::vec((header_name(), header_value()), 0..10),
        body in body(),
        sign_as in prop::option::of(prop::sample::select(vec![
            "ping", "release", "create", "push", "delete", "issues",
            "Tag Push Hook", "Release Hook", "Push Hook",
        ])),
    ) {
        let mut headers = match sign_as {
            Some(event) => correctly_signed(forge, event, &body),
            None => HeaderMap::new(),
        };
        for (name, value) in pairs {
            if let Ok(value) = HeaderValue::from_bytes(&value) {
                headers.append(HeaderName::from_bytes(name.as_bytes()).unwrap(), value);
            }
        }
        match receive(forge, &headers, &body, &secret()) {
            Ok(delivery) => {
                prop_assert_eq!(delivery.forge, forge);
                prop_assert!(!delivery.id.is_empty() && delivery.id.len() <= 128);
            }
            Err(error) => {
                let status = error.status().as_u16();
                prop_assert!(matches!(status, 400 | 401 | 413 | 415), "{}", error);
                prop_assert!(!error.to_string().contains(SECRET));
            }
        }
    }

    #[test]
    fn any_single_bit_flip_of_a_signed_body_is_refused(
        which in prop::sample::select(vec![
            (Forge::GitHub, "release", "github-release-published.json"),
            (Forge::GitHub, "push", "github-push-tag.json"),
            (Forge::Forgejo, "release", "forgejo-release-published.json"),
            (Forge::Forgejo, "create", "forgejo-create-tag.json"),
        ]),
        bit in any::<prop::sample::Index>(),
    ) {
        let (forge, event, name) = which;
        let mut body = fixture(name);
        let headers = correctly_signed(forge, event, &body);
        let bit = bit.index(body.len() * 8);
        body[bit / 8] ^= 1 << (bit % 8);
        let error = receive(forge, &headers, &body, &secret()).unwrap_err();
        prop_assert_eq!(error.kind(), "webhook-signature-mismatch");
        prop_assert_eq!(error.status(), StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn any_single_bit_flip_of_the_signature_is_refused(
        forge in prop::sample::select(vec![Forge::GitHub, Forge::Forgejo]),
        bit in 0usize..256,
    ) {
        let body = fixture("github-push-tag.json");
        let mut tag = hex::decode(hmac_hex(SECRET, &body)).unwrap();
        tag[bit / 8] ^= 1 << (bit % 8);
        let headers = match forge {
            Forge::GitHub => with(
                github_headers("push", &body),
                "X-Hub-Signature-256",
                &format!("sha256={}", hex::encode(&tag)),
            ),
            _ => with(forgejo_headers("push", &body), "X-Forgejo-Signature", &hex::encode(&tag)),
        };
        let error = receive(forge, &headers, &body, &secret()).unwrap_err();
        prop_assert_eq!(error.kind(), "webhook-signature-mismatch");
    }
}
