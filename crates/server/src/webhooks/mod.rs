//! Verifies and parses one webhook delivery from GitHub, GitLab or Forgejo (Gitea too) into
//! a [`Delivery`]: who sent it (its id) and whether it announces a release, a tag, a ping, or
//! nothing repack acts on. Pure and sync: [`receive`] takes the forge, the request headers,
//! the raw body and the configured [`WebhookSecret`]; the axum handler, the body limit of the
//! server and the enqueueing live elsewhere. A delivery is a prompt to check a recipe's feed,
//! never a statement of what to build: the watcher re-reads the feed, so a replayed or
//! duplicated delivery costs one check.
//!
//! # Rules, in the order they are checked
//!
//! 1. **Size.** A body over [`MAX_BODY_BYTES`] is refused (413) before it is hashed.
//! 2. **Authenticity, before any parsing** (401 for every failure):
//!    - GitHub: `X-Hub-Signature-256: sha256=<64 hex>`, the HMAC-SHA256 of the raw body keyed
//!      with the secret, compared in constant time. A delivery with only the SHA-1
//!      `X-Hub-Signature` is refused with a message saying SHA-256 is required. (GitHub,
//!      "Validating webhook deliveries"; "Webhook events and payloads", Delivery headers.)
//!    - GitLab: `X-Gitlab-Token` equals the secret; both are hashed with SHA-256 and the
//!      digests compared in constant time, so neither content nor length leaks. The token
//!      does not cover the body. GitLab 19's signing tokens (`webhook-signature`) are not
//!      supported. (GitLab, "Webhooks", Secret token.)
//!    - Forgejo/Gitea: `X-Forgejo-Signature`, or `X-Gitea-Signature` when it is absent, is the
//!      bare hex HMAC-SHA256 of the body (no `sha256=` prefix); when both are present only
//!      the Forgejo one counts. An empty header (what they send for a webhook without a
//!      secret) counts as missing. (Forgejo, "Webhooks"; Forgejo source,
//!      `services/webhook/shared`: `AddDefaultHeaders`.)
//!    - A signature header that appears twice, lacks the prefix, or is not 64 hex digits is
//!      malformed; the value is never echoed.
//! 3. **Delivery id** (400 when missing or not 1–128 printable ASCII characters):
//!    `X-GitHub-Delivery` (the same GUID on a redelivery); GitLab's `Idempotency-Key` (17.4+,
//!    kept across retries and resends), else `X-Gitlab-Event-UUID`, never the per-request
//!    `X-Gitlab-Webhook-UUID` (GitLab source, `WebHookService#build_headers`);
//!    `X-Forgejo-Delivery`, else `X-Gitea-Delivery`.
//! 4. **Event name** (400 when missing or not one the forge documents, named in the message):
//!    `X-GitHub-Event`, `X-Gitlab-Event`, `X-Forgejo-Event` else `X-Gitea-Event`.
//! 5. **JSON.** A form-encoded body (`Content-Type` other than `application/json`) is 415; a
//!    body that is not one JSON object is 400 with the position only; a missing or mistyped
//!    field is 400 naming the field's path (`release.tag_name`).
//! 6. **Meaning** (every other known event, valid and signed, is [`Event::Ignored`] with a
//!    reason):
//!    - GitHub (Webhook events and payloads): `ping` is [`Event::Ping`]; `release` with
//!      action `published` or `released` (not a draft) is [`Event::Release`] with
//!      `prerelease`; `created`, `prereleased`, `edited`, `deleted`, `unpublished` are
//!      ignored. `create` with `ref_type: tag` and `push` to `refs/tags/…` that is not
//!      `deleted` are [`Event::Tag`]; branches and deletions are ignored.
//!    - GitLab (Webhook events): `Tag Push Hook` (`object_kind: tag_push`) is a tag unless
//!      `after` is all zeros (a deletion); `Release Hook` with action `create` is a release
//!      (GitLab has no pre-releases); `update`/`delete` and `Push Hook` are ignored. The
//!      body's `object_kind` must match the header.
//!    - Forgejo/Gitea (`modules/structs/hook.go`, `services/repository/push.go`): `release`
//!      with action `published` is a release; `updated`/`deleted` are ignored. A tag push
//!      sends both `push` (`ref: refs/tags/…`) and `create` (`ref_type: tag`); both are
//!      tags, a push whose `after` is all zeros is a deletion and ignored. Forgejo has no
//!      ping; its test delivery is a branch push, ignored.
//!    - The same tag can thus arrive twice (GitHub `create` + `push`, Forgejo `create` +
//!      `push`, GitHub `published` + `released`); the queue's deduplication absorbs it.
//! 7. **Names from the payload are untrusted.** The repository (`repository.full_name`,
//!    GitLab's `project.path_with_namespace`) must be ASCII letters, digits, `.`, `_`, `-`
//!    in `/`-separated segments (exactly two, or two or more on GitLab), at most 255 bytes;
//!    the tag must be a valid git ref name (`git check-ref-format`) of at most 255 bytes.
//!
//! Errors ([`WebhookError`]) carry the HTTP status to answer and a stable `kind()`; their
//! messages name the header or field and never contain the secret or the signature or token
//! a delivery carried. Of the body only a refused repository or tag value is echoed (cut to
//! 64 characters, escaped), and JSON syntax errors give a position, not an excerpt.

mod error;
mod forgejo;
mod github;
mod gitlab;
mod headers;
mod payload;
mod secret;
mod verify;

use http::HeaderMap;

pub use error::WebhookError;
pub use headers::MAX_DELIVERY_ID_BYTES;
pub use payload::{MAX_REPOSITORY_BYTES, MAX_TAG_BYTES};
pub use secret::WebhookSecret;

use payload::Payload;

/// The largest body [`receive`] reads: 1 MiB.
///
/// GitHub and GitLab both cap payloads at 25 MB, but the deliveries that trigger anything are
/// small: a `create`, `ping` or tag push is a few KB, a release is its notes (GitHub allows
/// 125,000 characters) plus a KB or two per asset, tens of KB for a distribution's release.
/// The bodies that reach megabytes are pushes of many commits and releases with hundreds of
/// assets; a refused one costs nothing, because the scheduled check of every recipe still
/// runs (webhooks only make it sooner). 1 MiB keeps the memory held by concurrent
/// deliveries, and the HMAC work an unauthenticated sender can cause, small.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The forge that sent a delivery, chosen by the route it arrived on (headers are not
/// trusted to say).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Forge {
    /// GitHub (and GitHub Enterprise Server).
    GitHub,
    /// GitLab (gitlab.com and self-managed).
    GitLab,
    /// Forgejo, and Gitea, whose webhooks carry the same payloads under `X-Gitea-*` headers.
    Forgejo,
}

impl Forge {
    /// The forge's name in routes, logs and metrics labels: `github`, `gitlab`, `forgejo`.
    pub fn as_str(self) -> &'static str {
        match self {
            Forge::GitHub => "github",
            Forge::GitLab => "gitlab",
            Forge::Forgejo => "forgejo",
        }
    }

    /// The forge for a route segment: `github`, `gitlab`, `forgejo` or `gitea` (exact,
    /// lowercase).
    pub fn from_name(name: &str) -> Option<Forge> {
        match name {
            "github" => Some(Forge::GitHub),
            "gitlab" => Some(Forge::GitLab),
            "forgejo" | "gitea" => Some(Forge::Forgejo),
            _ => None,
        }
    }
}

/// One authenticated, understood delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub forge: Forge,
    /// The forge's delivery id (see rule 3): the key for dropping a redelivered duplicate.
    /// 1 to [`MAX_DELIVERY_ID_BYTES`] printable ASCII characters.
    pub id: String,
    pub event: Event,
}

/// What a delivery announces.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// GitHub's `ping`, sent when a webhook is created or tested.
    Ping,
    /// A release was published.
    Release {
        /// `owner/name`, or GitLab's `group/sub/project`.
        repository: String,
        /// The release's tag, without `refs/tags/`.
        tag: String,
        /// Marked as a pre-release (GitHub, Forgejo); always false on GitLab.
        prerelease: bool,
    },
    /// A tag was created or pushed.
    Tag {
        /// `owner/name`, or GitLab's `group/sub/project`.
        repository: String,
        /// The tag, without `refs/tags/`.
        tag: String,
    },
    /// A known, valid, authenticated event that triggers nothing (a release edited, a branch
    /// created, a tag deleted, an issue opened).
    Ignored {
        /// The event name as the forge's header gives it (`release`, `Push Hook`).
        event: String,
        reason: &'static str,
    },
}

impl Event {
    fn ignored(event: &'static str, reason: &'static str) -> Event {
        Event::Ignored {
            event: event.to_owned(),
            reason,
        }
    }
}

/// Verifies and parses one delivery by the rules of the module documentation. Nothing is
/// read from `body` before the signature (or GitLab's token) has been checked against
/// `secret`.
pub fn receive(
    forge: Forge,
    headers: &HeaderMap,
    body: &[u8],
    secret: &WebhookSecret,
) -> Result<Delivery, WebhookError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(WebhookError::BodyTooLarge {
            size: body.len(),
            limit: MAX_BODY_BYTES,
        });
    }
    match forge {
        Forge::GitHub => verify::github(headers, body, secret)?,
        Forge::GitLab => verify::gitlab(headers, secret)?,
        Forge::Forgejo => verify::forgejo(headers, body, secret)?,
    }

    let (delivery, delivery_expected, event, event_expected, known) = match forge {
        Forge::GitHub => (
            github::DELIVERY,
            "`X-GitHub-Delivery`",
            github::EVENT,
            "`X-GitHub-Event`",
            github::KNOWN_EVENTS,
        ),
        Forge::GitLab => (
            gitlab::DELIVERY,
            "`Idempotency-Key` or `X-Gitlab-Event-UUID`",
            gitlab::EVENT,
            "`X-Gitlab-Event`",
            gitlab::KNOWN_EVENTS,
        ),
        Forge::Forgejo => (
            forgejo::DELIVERY,
            "`X-Forgejo-Delivery` or `X-Gitea-Delivery`",
            forgejo::EVENT,
            "`X-Forgejo-Event` or `X-Gitea-Event`",
            forgejo::KNOWN_EVENTS,
        ),
    };
    let id = headers::delivery_id(headers, delivery, delivery_expected)?;
    let name = headers::event_name(headers, event, event_expected, known)?;
    headers::require_json(headers)?;
    let payload = Payload::parse(body)?;
    let event = match forge {
        Forge::GitHub => github::event(name, &payload)?,
        Forge::GitLab => gitlab::event(name, &payload)?,
        Forge::Forgejo => forgejo::event(name, &payload)?,
    };
    Ok(Delivery { forge, id, event })
}
