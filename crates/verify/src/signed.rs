//! Signed checksum lists, end to end: the signature is verified first, then only the text it
//! covers is parsed, and a list without a SHA-256 entry is refused.

use crate::lists::{ChecksumList, Limits, VerifyError, parse_checksum_bytes};
use crate::openpgp::{GoodSignature, Keyring, SignatureError};

/// A checksum list whose text a pinned key signed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedList {
    pub list: ChecksumList,
    pub signature: GoodSignature,
}

/// Occurs when a signed checksum list cannot be used: its signature failed, or the signed
/// text is not a usable list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// Occurs when the signature does not prove a pinned key signed the list.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// Occurs when the signed text is not a list with SHA-256 entries (malformed line, HTML,
    /// empty, too large).
    #[error("checksum list {list} is not valid")]
    List {
        list: String,
        #[source]
        source: VerifyError,
    },
}

impl TrustError {
    /// A stable, short identifier of the failure (the underlying signature or list kind).
    pub fn kind(&self) -> &'static str {
        match self {
            TrustError::Signature(error) => error.kind(),
            TrustError::List { source, .. } => source.kind(),
        }
    }
}

/// Verifies a list with its detached signature (Ubuntu's `SHA256SUMS` + `SHA256SUMS.gpg`,
/// Debian's `SHA256SUMS` + `SHA256SUMS.sign`, Mint's `sha256sum.txt` + `.gpg`) and parses
/// it. `label` names the list in errors (its URL, say). The list's size is checked before
/// its signature, its content only after.
pub fn verify_detached_list(
    list: &[u8],
    signature: &[u8],
    keyring: &Keyring,
    label: &str,
) -> Result<VerifiedList, TrustError> {
    let list_error = |source| TrustError::List {
        list: label.to_owned(),
        source,
    };
    let limits = Limits::DEFAULT;
    if list.len() > limits.max_list_bytes {
        return Err(list_error(VerifyError::ListTooLarge {
            size: list.len(),
            limit: limits.max_list_bytes,
        }));
    }
    let signature = keyring.verify_detached(list, signature, label)?;
    let parsed = parse_checksum_bytes(list, &limits).map_err(list_error)?;
    parsed.require_sha256_entries().map_err(list_error)?;
    Ok(VerifiedList {
        list: parsed,
        signature,
    })
}

/// Verifies a clearsigned list (Fedora's `CHECKSUM`) and parses its signed text only.
pub fn verify_clearsigned_list(
    document: &[u8],
    keyring: &Keyring,
    label: &str,
) -> Result<VerifiedList, TrustError> {
    let list_error = |source| TrustError::List {
        list: label.to_owned(),
        source,
    };
    let clearsigned = keyring.verify_clearsigned(document, label)?;
    let parsed =
        parse_checksum_bytes(clearsigned.text.as_bytes(), &Limits::DEFAULT).map_err(list_error)?;
    parsed.require_sha256_entries().map_err(list_error)?;
    Ok(VerifiedList {
        list: parsed,
        signature: clearsigned.signature,
    })
}
