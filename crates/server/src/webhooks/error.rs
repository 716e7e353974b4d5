//! Why a delivery was refused: one variant per failure, each with the HTTP status the handler
//! answers and a stable [`WebhookError::kind`] for logs and metrics labels.
//!
//! Messages name the header or the payload field that was wrong. They never contain the
//! configured secret, the signature or token a delivery carried, or a body excerpt; values
//! that are echoed (an unknown event name, an invalid repository or tag) are cut to 64
//! characters with everything but printable ASCII escaped.

use http::StatusCode;

/// A refused delivery (or an unusable secret). Nothing was enqueued.
///
/// Status rule: anything that fails to authenticate the sender is 401, whatever the reason
/// (missing, SHA-1 only, malformed, wrong); an authenticated delivery that cannot be used is
/// 400 (413 for size, 415 for a form-encoded body); an empty secret is the operator's
/// configuration error, 500.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// Occurs when a [`WebhookSecret`](super::WebhookSecret) is built from no bytes: an empty
    /// key would make every signature check meaningless, so none is attempted.
    #[error(
        "the webhook secret is empty: configure the same non-empty secret here and in the forge's webhook settings"
    )]
    SecretEmpty,

    /// Occurs when the body is larger than [`MAX_BODY_BYTES`](super::MAX_BODY_BYTES); checked
    /// before anything else, so a large body is never hashed.
    #[error("the body is {size} bytes, more than the limit of {limit} bytes; it was not read")]
    BodyTooLarge { size: usize, limit: usize },

    /// Occurs when the header carrying the signature (or GitLab's token) is absent or empty.
    #[error("the delivery has no {expected} header: {hint}")]
    SignatureMissing {
        /// The header name(s) looked for, quoted.
        expected: &'static str,
        hint: &'static str,
    },

    /// Occurs when a GitHub delivery carries only the SHA-1 `X-Hub-Signature`.
    #[error(
        "the delivery is signed with SHA-1 only (`X-Hub-Signature`): an HMAC-SHA256 signature in `X-Hub-Signature-256` is required"
    )]
    Sha1Only,

    /// Occurs when the signature header is not in the forge's format (prefix, 64 hex digits,
    /// one value).
    #[error("the `{header}` header is malformed: {reason}")]
    SignatureMalformed {
        header: &'static str,
        reason: &'static str,
    },

    /// Occurs when the signature (or GitLab's token) does not verify against the configured
    /// secret: the sender uses another secret, or the body was changed after signing.
    #[error(
        "the `{header}` header does not verify against the configured secret (another secret, or an altered body)"
    )]
    SignatureMismatch { header: &'static str },

    /// Occurs when an authenticated delivery has no delivery id header.
    #[error("the delivery has no delivery id: expected a {expected} header")]
    DeliveryIdMissing {
        /// The header name(s) looked for, quoted.
        expected: &'static str,
    },

    /// Occurs when the delivery id is not 1 to 128 printable ASCII characters.
    #[error("the `{header}` header is not a usable delivery id: {reason}")]
    DeliveryIdInvalid {
        header: &'static str,
        reason: &'static str,
    },

    /// Occurs when an authenticated delivery has no event header.
    #[error("the delivery has no {expected} header naming its event")]
    EventMissing {
        /// The header name(s) looked for, quoted.
        expected: &'static str,
    },

    /// Occurs when the event header names an event this forge is not known to send.
    #[error("the `{header}` header names an unknown event `{event}`")]
    UnknownEvent {
        header: &'static str,
        /// The header's value, cut and escaped for display.
        event: String,
    },

    /// Occurs when a header that must appear once appears several times.
    #[error("the `{header}` header appears more than once")]
    HeaderRepeated { header: &'static str },

    /// Occurs when the body is declared as something other than JSON (a webhook configured
    /// with the form content type, `payload=…`).
    #[error(
        "the body is `{content_type}`, not JSON: set the webhook's content type to application/json"
    )]
    UnsupportedContentType {
        /// The `Content-Type` value, cut and escaped for display.
        content_type: String,
    },

    /// Occurs when the body is not a JSON object.
    #[error("the body is not a JSON object: {reason}")]
    PayloadMalformed { reason: String },

    /// Occurs when a field the event needs is absent or `null`.
    #[error("the payload has no `{field}` field")]
    FieldMissing { field: &'static str },

    /// Occurs when a field the event needs has the wrong type or an unacceptable value.
    #[error("the payload field `{field}` {reason}")]
    FieldInvalid { field: &'static str, reason: String },
}

impl WebhookError {
    /// The HTTP status the handler answers with (see the status rule on the type).
    pub fn status(&self) -> StatusCode {
        match self {
            WebhookError::SecretEmpty => StatusCode::INTERNAL_SERVER_ERROR,
            WebhookError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            WebhookError::SignatureMissing { .. }
            | WebhookError::Sha1Only
            | WebhookError::SignatureMalformed { .. }
            | WebhookError::SignatureMismatch { .. } => StatusCode::UNAUTHORIZED,
            WebhookError::UnsupportedContentType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            WebhookError::DeliveryIdMissing { .. }
            | WebhookError::DeliveryIdInvalid { .. }
            | WebhookError::EventMissing { .. }
            | WebhookError::UnknownEvent { .. }
            | WebhookError::HeaderRepeated { .. }
            | WebhookError::PayloadMalformed { .. }
            | WebhookError::FieldMissing { .. }
            | WebhookError::FieldInvalid { .. } => StatusCode::BAD_REQUEST,
        }
    }

    /// A stable, short identifier of the failure, for logs and metrics labels.
    pub fn kind(&self) -> &'static str {
        match self {
            WebhookError::SecretEmpty => "webhook-secret-empty",
            WebhookError::BodyTooLarge { .. } => "webhook-body-too-large",
            WebhookError::SignatureMissing { .. } => "webhook-signature-missing",
            WebhookError::Sha1Only => "webhook-signature-sha1-only",
            WebhookError::SignatureMalformed { .. } => "webhook-signature-malformed",
            WebhookError::SignatureMismatch { .. } => "webhook-signature-mismatch",
            WebhookError::DeliveryIdMissing { .. } => "webhook-delivery-id-missing",
            WebhookError::DeliveryIdInvalid { .. } => "webhook-delivery-id-invalid",
            WebhookError::EventMissing { .. } => "webhook-event-missing",
            WebhookError::UnknownEvent { .. } => "webhook-event-unknown",
            WebhookError::HeaderRepeated { .. } => "webhook-header-repeated",
            WebhookError::UnsupportedContentType { .. } => "webhook-content-type",
            WebhookError::PayloadMalformed { .. } => "webhook-payload-malformed",
            WebhookError::FieldMissing { .. } => "webhook-field-missing",
            WebhookError::FieldInvalid { .. } => "webhook-field-invalid",
        }
    }
}

/// `bytes` for an error message: at most 64 characters, printable ASCII kept (but for the
/// backquote), everything else as `\xNN`, and `…` when cut.
pub(super) fn shown(bytes: &[u8]) -> String {
    const MAX: usize = 64;
    let mut out = String::new();
    for &byte in bytes.iter().take(MAX) {
        if (0x20..0x7f).contains(&byte) && byte != b'`' {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    if bytes.len() > MAX {
        out.push('…');
    }
    out
}
