//! GitHub's events: which names exist, and how `ping`, `release`, `create` and `push` map to
//! an [`Event`]. Everything else GitHub sends is [`Event::Ignored`].

use super::Event;
use super::WebhookError;
use super::payload::{Payload, Segments, tag_created};

/// The delivery id header: a GUID, the same on a redelivery of the same event.
pub(super) const DELIVERY: &[&str] = &["X-GitHub-Delivery"];
/// The event name header.
pub(super) const EVENT: &[&str] = &["X-GitHub-Event"];

/// Every event GitHub's "Webhook events and payloads" page lists; any other name is refused
/// as unknown.
pub(super) const KNOWN_EVENTS: &[&str] = &[
    "branch_protection_configuration",
    "branch_protection_rule",
    "check_run",
    "check_suite",
    "code_scanning_alert",
    "commit_comment",
    "create",
    "custom_property",
    "custom_property_values",
    "delete",
    "dependabot_alert",
    "deploy_key",
    "deployment",
    "deployment_protection_rule",
    "deployment_review",
    "deployment_status",
    "discussion",
    "discussion_comment",
    "fork",
    "github_app_authorization",
    "gollum",
    "installation",
    "installation_repositories",
    "installation_target",
    "issue_comment",
    "issues",
    "label",
    "marketplace_purchase",
    "member",
    "membership",
    "merge_group",
    "meta",
    "milestone",
    "org_block",
    "organization",
    "package",
    "page_build",
    "personal_access_token_request",
    "ping",
    "project",
    "project_card",
    "project_column",
    "projects_v2",
    "projects_v2_item",
    "projects_v2_status_update",
    "public",
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
    "pull_request_review_thread",
    "push",
    "registry_package",
    "release",
    "repository",
    "repository_advisory",
    "repository_dispatch",
    "repository_import",
    "repository_ruleset",
    "repository_vulnerability_alert",
    "secret_scanning_alert",
    "secret_scanning_alert_location",
    "secret_scanning_scan",
    "security_advisory",
    "security_and_analysis",
    "sponsorship",
    "star",
    "status",
    "sub_issues",
    "team",
    "team_add",
    "watch",
    "workflow_dispatch",
    "workflow_job",
    "workflow_run",
];

/// The event `name` (one of [`KNOWN_EVENTS`]) with its payload.
pub(super) fn event(name: &'static str, payload: &Payload) -> Result<Event, WebhookError> {
    match name {
        "ping" => Ok(Event::Ping),
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

/// `published` (a release, pre-release or draft was published) and `released` (a release was
/// published, or a pre-release became a release) trigger; both arrive for one stable
/// release, and the queue deduplicates the second. `created`, `prereleased`, `edited`,
/// `deleted` and `unpublished` do not.
fn release(payload: &Payload) -> Result<Event, WebhookError> {
    match payload.str("action")? {
        "published" | "released" => {}
        _ => {
            return Ok(Event::ignored(
                "release",
                "only `published` and `released` releases trigger a check",
            ));
        }
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

/// `push` to `refs/tags/…` triggers unless it deletes the tag (GitHub's default webhook sends
/// only this event, so a tag push must count here as well as in `create`).
fn push(payload: &Payload) -> Result<Event, WebhookError> {
    if !payload.str("ref")?.starts_with("refs/tags/") {
        return Ok(Event::ignored("push", "a branch was pushed"));
    }
    if payload.bool("deleted")? {
        return Ok(Event::ignored("push", "a tag was deleted"));
    }
    Ok(Event::Tag {
        repository: payload.repository("repository.full_name", Segments::Two)?,
        tag: payload.tag("ref")?,
    })
}
