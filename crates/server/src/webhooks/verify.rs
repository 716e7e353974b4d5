//! Authenticating a delivery before any of it is parsed: HMAC-SHA256 over the raw body for
//! GitHub (`X-Hub-Signature-256: sha256=<hex>`) and Forgejo/Gitea (`X-Forgejo-Signature` /
//! `X-Gitea-Signature`: bare hex), the shared token for GitLab (`X-Gitlab-Token`). Every
//! comparison is constant-time; the values compared never reach an error message.

use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, HeaderValue};
use sha2::digest::CtOutput;
use sha2::{Digest, Sha256};

use super::headers::{Repeated, one};
use super::{WebhookError, WebhookSecret};

/// GitHub's signature header, and the SHA-1 one it also sends for old integrations.
const GITHUB_SIGNATURE: &str = "X-Hub-Signature-256";
const GITHUB_SHA1_SIGNATURE: &str = "X-Hub-Signature";
/// GitLab's plain shared token.
const GITLAB_TOKEN: &str = "X-Gitlab-Token";
/// Forgejo's signature header and the Gitea one it also sends (Gitea sends only the latter).
const FORGEJO_SIGNATURE: &str = "X-Forgejo-Signature";
const GITEA_SIGNATURE: &str = "X-Gitea-Signature";

/// Checks `X-Hub-Signature-256` over `body`.
pub(super) fn github(
    headers: &HeaderMap,
    body: &[u8],
    secret: &WebhookSecret,
) -> Result<(), WebhookError> {
    let Some(value) = signature_header(headers, GITHUB_SIGNATURE)? else {
        if headers.contains_key(GITHUB_SHA1_SIGNATURE) {
            return Err(WebhookError::Sha1Only);
        }
        return Err(WebhookError::SignatureMissing {
            expected: "`X-Hub-Signature-256`",
            hint: "set a secret in the webhook's settings (GitHub signs deliveries only when it has one)",
        });
    };
    let hex = value
        .strip_prefix(b"sha256=")
        .ok_or(WebhookError::SignatureMalformed {
            header: GITHUB_SIGNATURE,
            reason: "it does not start with `sha256=`",
        })?;
    verify_hmac(GITHUB_SIGNATURE, hex, body, secret)
}

/// Checks `X-Forgejo-Signature`, or `X-Gitea-Signature` when the first is absent, over `body`.
/// When both are present only the Forgejo one counts: a good Gitea signature does not rescue a
/// bad Forgejo one.
pub(super) fn forgejo(
    headers: &HeaderMap,
    body: &[u8],
    secret: &WebhookSecret,
) -> Result<(), WebhookError> {
    let found = match signature_header(headers, FORGEJO_SIGNATURE)? {
        Some(value) => Some((FORGEJO_SIGNATURE, value)),
        None => signature_header(headers, GITEA_SIGNATURE)?.map(|value| (GITEA_SIGNATURE, value)),
    };
    let Some((header, hex)) = found else {
        return Err(WebhookError::SignatureMissing {
            expected: "`X-Forgejo-Signature` or `X-Gitea-Signature`",
            hint: "set a secret in the webhook's settings (without one Forgejo and Gitea send the header empty)",
        });
    };
    verify_hmac(header, hex, body, secret)
}

/// Checks `X-Gitlab-Token` against the secret. The token does not cover the body: GitLab's
/// secret token authenticates the sender only.
pub(super) fn gitlab(headers: &HeaderMap, secret: &WebhookSecret) -> Result<(), WebhookError> {
    let Some(token) = signature_header(headers, GITLAB_TOKEN)? else {
        return Err(WebhookError::SignatureMissing {
            expected: "`X-Gitlab-Token`",
            hint: "set a secret token in the webhook's settings (signing tokens, sent as `webhook-signature`, are not supported)",
        });
    };
    // Hashing both sides first makes the comparison independent of the lengths too;
    // `CtOutput`'s equality is constant-time.
    let given = CtOutput::<Sha256>::new(Sha256::digest(token));
    let expected = CtOutput::<Sha256>::new(Sha256::digest(secret.expose()));
    if given == expected {
        Ok(())
    } else {
        Err(WebhookError::SignatureMismatch {
            header: GITLAB_TOKEN,
        })
    }
}

/// The bytes of the one `name` header; `None` when absent or empty (Forgejo sends its
/// signature headers empty for a webhook without a secret).
fn signature_header<'a>(
    headers: &'a HeaderMap,
    name: &'static str,
) -> Result<Option<&'a [u8]>, WebhookError> {
    match one(headers, name) {
        Ok(value) => Ok(value.map(HeaderValue::as_bytes).filter(|v| !v.is_empty())),
        Err(Repeated) => Err(WebhookError::SignatureMalformed {
            header: name,
            reason: "it appears more than once",
        }),
    }
}

/// Decodes `hex` (64 hex digits, either case) and checks it as the HMAC-SHA256 of `body`.
fn verify_hmac(
    header: &'static str,
    hex: &[u8],
    body: &[u8],
    secret: &WebhookSecret,
) -> Result<(), WebhookError> {
    let malformed = |reason| WebhookError::SignatureMalformed { header, reason };
    if hex.len() != 64 {
        return Err(malformed("it is not 64 hex digits (an HMAC-SHA256)"));
    }
    let mut tag = [0u8; 32];
    hex::decode_to_slice(hex, &mut tag).map_err(|_| malformed("it is not hexadecimal"))?;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.expose())
        .expect("HMAC accepts keys of any length");
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&tag)
        .map_err(|_| WebhookError::SignatureMismatch { header })
}
