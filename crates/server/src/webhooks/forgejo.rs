//! Forgejo's and Gitea's events: which names exist, and how `release`, `create` and `push`
//! map to an [`Event`]. Everything else they send is [`Event::Ignored`].

use super::Event;
use super::WebhookError;
use super::payload::{Payload, Segments, is_zero_id, tag_created};

/// The delivery id headers: Forgejo sends both, Gitea only the second (a UUID).
pub(super) const DELIVERY: &[&str] = &["X-Forgejo-Delivery", "X-Gitea-Delivery"];
/// The event name headers: Forgejo sends both, Gitea only the second.
pub(super) const EVENT: &[&str] = &["X-Forgejo-Event", "X-Gitea-Event"];

/// Every event name Forgejo and Gitea put in their event headers (`HookEventType.Event()`:
/// the `issue_*` and `pull_request_*` variants collapse into `issues`, `pull_request` and
/// `issue_comment`); any other name is refused as unknown.
pub(super) const KNOWN_EVENTS: &[&str] = &[
    "create",
    "delete",
    "fork",
    "push",
    "issues",
    "issue_comment",
    "pull_request",
    "pull_request_approved",
    "pull_request_rejected",
    "pull_request_comment",
    "pull_request_review",
    "wiki",
    "repository",
    "release",
    "package",
    "status",
    "schedule",
    "workflow_run",
    "workflow_job",
    "action_run_failure",
    "action_run_recover",
    "action_run_success",
];

/// The event `name` (one of [`KNOWN_EVENTS`]) with its payload.
pub(super) fn event(name: &'static str, payload: &Payload) -> Result<Event, WebhookError> {
    match name {
        "release" => release(payload),
        "create" => tag_created(payload),
        "push" => push(payload),
        "delete" => Ok(Event::ignored(name, "a branch or tag was deleted")),
        _ => Ok(Event::ignored(
            name,
            "the event announces neither a release nor a tag",
        )),
    }
}

/// Release `action` `published` triggers (a release created, or a draft published);
/// `updated` and `deleted` do not.
fn release(payload: &Payload) -> Result<Event, WebhookError> {
    if payload.str("action")? != "published" {
        return Ok(Event::ignored(
            "release",
            "only `published` releases trigger a check",
        ));
    }
    if payload.opt_bool("release.draft")? == Some(true) {
        return Ok(Event::ignored("release", "the release is a draft"));
    }
    Ok(Event::Release {
        repository: payload.repository("repository.full_name", Segments::Two)?,
        tag: payload.tag("release.tag_name")?,
        prerelease: payload.bool("release.prerelease")?,
    })
}

/// A push to `refs/tags/…` triggers unless `after` is all zeros (the tag was deleted). A tag
/// push also sends `create`; both map to [`Event::Tag`] (a webhook set to push events only,
/// Forgejo's default, sees just this one).
fn push(payload: &Payload) -> Result<Event, WebhookError> {
    if !payload.str("ref")?.starts_with("refs/tags/") {
        return Ok(Event::ignored("push", "a branch was pushed"));
    }
    if is_zero_id(payload.str("after")?) {
        return Ok(Event::ignored("push", "a tag was deleted"));
    }
    Ok(Event::Tag {
        repository: payload.repository("repository.full_name", Segments::Two)?,
        tag: payload.tag("ref")?,
    })
}
