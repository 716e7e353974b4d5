//! Clearsigned documents (Fedora's `CHECKSUM`, Debian's `InRelease`): the signed text is
//! taken from inside the `BEGIN PGP SIGNED MESSAGE` block only, dash-unescaped, and handed
//! out only after a signature over exactly that text passed. Text before the block or after
//! the signature is refused by the parser.

use super::detached::in_memory;
use super::verdict::{GoodSignature, judge};
use super::{Keyring, MAX_SIGNATURE_BYTES, MAX_SIGNATURES, SignatureError};
use crate::MAX_LIST_BYTES;
use pgp::composed::CleartextSignedMessage;

/// Largest clearsigned document accepted: a list at its limit plus its signatures.
pub const MAX_CLEARSIGNED_BYTES: usize = MAX_LIST_BYTES + MAX_SIGNATURE_BYTES;

/// The text of a clearsigned document that a pinned key signed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Clearsigned {
    /// Exactly the signed text, with `\n` line ends (OpenPGP signs text with its line ends
    /// normalised and trailing whitespace removed, so that is what this is).
    pub text: String,
    pub signature: GoodSignature,
}

impl Keyring {
    /// Verifies a clearsigned document and returns its signed text. `label` names the
    /// document in errors.
    pub fn verify_clearsigned(
        &self,
        document: &[u8],
        label: &str,
    ) -> Result<Clearsigned, SignatureError> {
        if document.len() > MAX_CLEARSIGNED_BYTES {
            return Err(SignatureError::TooLarge {
                signature: label.to_owned(),
                size: document.len(),
                limit: MAX_CLEARSIGNED_BYTES,
            });
        }
        let malformed = |reason: String| SignatureError::Malformed {
            signature: label.to_owned(),
            reason,
        };
        let text = std::str::from_utf8(document)
            .map_err(|_| malformed("a clearsigned document must be UTF-8 text".to_owned()))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let (message, _headers) = CleartextSignedMessage::from_string(text)
            .map_err(|error| malformed(format!("not a clearsigned document: {error}")))?;
        if message.signatures().len() > MAX_SIGNATURES {
            return Err(malformed(format!(
                "more than {MAX_SIGNATURES} signature packets"
            )));
        }
        let signed = message.signed_text();
        let signature = judge(
            self,
            label,
            message.signatures(),
            &in_memory(signed.as_bytes()),
        )?;
        Ok(Clearsigned {
            text: signed.replace("\r\n", "\n"),
            signature,
        })
    }
}
