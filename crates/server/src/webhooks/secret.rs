//! The shared webhook secret: the HMAC key for GitHub and Forgejo, the expected token for
//! GitLab. It cannot be empty, has no `Display`, and its `Debug` shows `<redacted>`.

use std::fmt;

use super::WebhookError;

/// The secret configured for one forge's webhooks, used as raw bytes exactly as given (the
/// caller trims a trailing newline read from a secrets file, if it wants to).
///
/// Invariant: never empty (checked in [`WebhookSecret::new`]).
#[derive(Clone)]
pub struct WebhookSecret(Box<[u8]>);

impl WebhookSecret {
    /// A secret from its bytes; [`WebhookError::SecretEmpty`] for no bytes.
    pub fn new(secret: impl Into<Vec<u8>>) -> Result<WebhookSecret, WebhookError> {
        let secret = secret.into();
        if secret.is_empty() {
            return Err(WebhookError::SecretEmpty);
        }
        Ok(WebhookSecret(secret.into_boxed_slice()))
    }

    /// The key bytes, for the verifiers only.
    pub(super) fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}
