//! GitLab's events: which `X-Gitlab-Event` values exist, and how `Tag Push Hook` and
//! `Release Hook` map to an [`Event`]. Everything else GitLab sends is [`Event::Ignored`].

use super::Event;
use super::WebhookError;
use super::payload::{Payload, Segments, is_zero_id};

/// The delivery id headers, in order of preference. `Idempotency-Key` (GitLab 17.4+) stays
/// the same when GitLab retries or an operator resends a delivery; `X-Gitlab-Event-UUID`
/// (older GitLab) identifies the triggering event for this webhook. `X-Gitlab-Webhook-UUID`
/// is not used: despite its name GitLab makes a fresh one for every request, retries
/// included (`WebHookService#build_headers`).
pub(super) const DELIVERY: &[&str] = &["Idempotency-Key", "X-Gitlab-Event-UUID"];
/// The event name header: the hook's name in title case, `Tag Push Hook`.
pub(super) const EVENT: &[&str] = &["X-Gitlab-Event"];

/// Every `X-Gitlab-Event` value of project, group and system hooks ("Webhook events");
/// any other value is refused as unknown.
pub(super) const KNOWN_EVENTS: &[&str] = &[
    "Push Hook",
    "Tag Push Hook",
    "Issue Hook",
    "Confidential Issue Hook",
    "Note Hook",
    "Confidential Note Hook",
    "Merge Request Hook",
    "Wiki Page Hook",
    "Pipeline Hook",
    "Job Hook",
    "Deployment Hook",
    "Feature Flag Hook",
    "Release Hook",
    "Milestone Hook",
    "Emoji Hook",
    "Resource Access Token Hook",
    "Vulnerability Hook",
    "Member Hook",
    "Project Hook",
    "Subgroup Hook",
    "System Hook",
];

/// The event `name` (one of [`KNOWN_EVENTS`]) with its payload.
pub(super) fn event(name: &'static str, payload: &Payload) -> Result<Event, WebhookError> {
    match name {
        "Tag Push Hook" => tag_push(payload),
        "Release Hook" => release(payload),
        "Push Hook" => Ok(Event::ignored(
            name,
            "a branch was pushed (tags arrive as `Tag Push Hook`)",
        )),
        _ => Ok(Event::ignored(
            name,
            "the event announces neither a release nor a tag",
        )),
    }
}

/// A tag pushed (`after` is the new object) triggers; a deleted tag (`after` all zeros) does
/// not.
fn tag_push(payload: &Payload) -> Result<Event, WebhookError> {
    object_kind(payload, "tag_push")?;
    if !payload.str("ref")?.starts_with("refs/tags/") {
        return Err(WebhookError::FieldInvalid {
            field: "ref",
            reason: "does not start with `refs/tags/`".to_owned(),
        });
    }
    if is_zero_id(payload.str("after")?) {
        return Ok(Event::ignored("Tag Push Hook", "a tag was deleted"));
    }
    Ok(Event::Tag {
        repository: payload.repository("project.path_with_namespace", Segments::TwoOrMore)?,
        tag: payload.tag("ref")?,
    })
}

/// Release `action` `create` triggers; `update` and `delete` do not. GitLab has no
/// pre-releases (an upcoming release is a created one with a future `released_at`).
fn release(payload: &Payload) -> Result<Event, WebhookError> {
    object_kind(payload, "release")?;
    if payload.str("action")? != "create" {
        return Ok(Event::ignored(
            "Release Hook",
            "only created releases trigger a check",
        ));
    }
    Ok(Event::Release {
        repository: payload.repository("project.path_with_namespace", Segments::TwoOrMore)?,
        tag: payload.tag("tag")?,
        prerelease: false,
    })
}

/// The body's `object_kind` must agree with the event header.
fn object_kind(payload: &Payload, expected: &'static str) -> Result<(), WebhookError> {
    if payload.str("object_kind")? == expected {
        Ok(())
    } else {
        Err(WebhookError::FieldInvalid {
            field: "object_kind",
            reason: format!("is not `{expected}`, which the `X-Gitlab-Event` header announces"),
        })
    }
}
