//! Errors of OpenPGP verification and of building a keyring. Every signature error names the
//! signature (the label the caller passed, such as its URL) and, when one is involved, the
//! key by full fingerprint; each error has a stable `kind()`.

use super::Fingerprint;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

/// Occurs when a signature does not prove that a pinned key signed the data. Nothing signed
/// is handed out when any of these is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// Occurs when the signature (or clearsigned document) is larger than the limit; checked
    /// before parsing.
    #[error("signature {signature} is {size} bytes, more than the limit of {limit} bytes")]
    TooLarge {
        signature: String,
        size: usize,
        limit: usize,
    },
    /// Occurs when the armour or the packets cannot be parsed, the armour is of another kind
    /// (a key, a message), or a signature lacks what every signature must carry.
    #[error("signature {signature} is malformed: {reason}")]
    Malformed { signature: String, reason: String },
    /// Occurs when the input parses but holds no signature packet.
    #[error("signature {signature} holds no OpenPGP signature")]
    NoSignature { signature: String },
    /// Occurs when no signature was made by a pinned key or one of its subkeys.
    #[error(
        "signature {signature} was made by {}, which is not a pinned key or a subkey of one (pinned: {})",
        join(issuers),
        join(pinned)
    )]
    UnpinnedKey {
        signature: String,
        /// Each issuer as the signature names it: a fingerprint, else a 16-digit key ID.
        issuers: Vec<String>,
        pinned: Vec<Fingerprint>,
    },
    /// Occurs when a pinned key's signature does not match the data: the data (or the
    /// signature) was changed after signing.
    #[error(
        "signature {signature} by key {key} (pinned {primary}) does not match the signed data: {reason}"
    )]
    BadSignature {
        signature: String,
        key: Fingerprint,
        primary: Fingerprint,
        reason: String,
    },
    /// Occurs when the signing key (or its primary) had expired when the signature was made,
    /// or has expired by the time of the check.
    #[error(
        "signature {signature}: key {key} (pinned {primary}) expired at {} (signature made {}, checked at {})",
        utc(*expired), utc(*made), utc(*checked)
    )]
    KeyExpired {
        signature: String,
        key: Fingerprint,
        primary: Fingerprint,
        expired: SystemTime,
        made: SystemTime,
        checked: SystemTime,
    },
    /// Occurs when the signing key or its primary carries a valid revocation.
    #[error("signature {signature}: key {key} (pinned {primary}) is revoked: {reason}")]
    KeyRevoked {
        signature: String,
        key: Fingerprint,
        primary: Fingerprint,
        reason: String,
    },
    /// Occurs when the signing subkey sits in the pinned key's file but has no valid binding
    /// signature from the pinned primary (or no valid back-signature of its own).
    #[error("signature {signature}: subkey {key} is not bound to pinned key {primary}: {reason}")]
    SubkeyNotBound {
        signature: String,
        key: Fingerprint,
        primary: Fingerprint,
        reason: String,
    },
    /// Occurs when the signing key's flags do not allow signing.
    #[error(
        "signature {signature}: key {key} (pinned {primary}) may not make signatures: {reason}"
    )]
    NotSigningKey {
        signature: String,
        key: Fingerprint,
        primary: Fingerprint,
        reason: String,
    },
    /// Occurs when the pinned key is unusable (no valid self-signature) or the signature
    /// predates the signing key.
    #[error("signature {signature}: key {key} (pinned {primary}) is not valid for it: {reason}")]
    KeyInvalid {
        signature: String,
        key: Fingerprint,
        primary: Fingerprint,
        reason: String,
    },
    /// Occurs when the signature's own expiration time has passed.
    #[error("signature {signature} by key {key} expired at {}", utc(*expired))]
    SignatureExpired {
        signature: String,
        key: Fingerprint,
        expired: SystemTime,
    },
    /// Occurs when the signature uses a hash that collisions make worthless (MD5, SHA-1,
    /// RIPEMD-160).
    #[error("signature {signature} by {issuer} uses the {hash} hash, which is too weak to trust")]
    WeakHash {
        signature: String,
        issuer: String,
        hash: String,
    },
    /// Occurs when the signature is of a version or type this crate does not accept for
    /// data (v3 signatures, certifications, text-mode signatures over a disk image).
    #[error("signature {signature} by {issuer} is not supported: {reason}")]
    Unsupported {
        signature: String,
        issuer: String,
        reason: String,
    },
}

impl SignatureError {
    /// A stable, short identifier of the failure, for metrics labels and the catalogue.
    pub fn kind(&self) -> &'static str {
        match self {
            SignatureError::TooLarge { .. } => "signature-too-large",
            SignatureError::Malformed { .. } => "signature-malformed",
            SignatureError::NoSignature { .. } => "signature-missing",
            SignatureError::UnpinnedKey { .. } => "signature-unpinned-key",
            SignatureError::BadSignature { .. } => "signature-bad",
            SignatureError::KeyExpired { .. } => "signature-key-expired",
            SignatureError::KeyRevoked { .. } => "signature-key-revoked",
            SignatureError::SubkeyNotBound { .. } => "signature-subkey-not-bound",
            SignatureError::NotSigningKey { .. } => "signature-key-not-for-signing",
            SignatureError::KeyInvalid { .. } => "signature-key-invalid",
            SignatureError::SignatureExpired { .. } => "signature-expired",
            SignatureError::WeakHash { .. } => "signature-weak-hash",
            SignatureError::Unsupported { .. } => "signature-unsupported",
        }
    }

    /// The label of the signature the error is about.
    pub fn signature(&self) -> &str {
        match self {
            SignatureError::TooLarge { signature, .. }
            | SignatureError::Malformed { signature, .. }
            | SignatureError::NoSignature { signature }
            | SignatureError::UnpinnedKey { signature, .. }
            | SignatureError::BadSignature { signature, .. }
            | SignatureError::KeyExpired { signature, .. }
            | SignatureError::KeyRevoked { signature, .. }
            | SignatureError::SubkeyNotBound { signature, .. }
            | SignatureError::NotSigningKey { signature, .. }
            | SignatureError::KeyInvalid { signature, .. }
            | SignatureError::SignatureExpired { signature, .. }
            | SignatureError::WeakHash { signature, .. }
            | SignatureError::Unsupported { signature, .. } => signature,
        }
    }
}

/// Occurs when the keyring for a set of pinned fingerprints cannot be built. A keyring is
/// never built with fewer keys than were pinned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringError {
    /// Occurs when no fingerprint was pinned: nothing could ever verify.
    #[error("no key fingerprint is pinned")]
    NoPins,
    /// Occurs when a key file is larger than the limit; checked before parsing.
    #[error("key file {file} is {size} bytes, more than the limit of {limit} bytes")]
    KeyFileTooLarge {
        file: String,
        size: usize,
        limit: usize,
    },
    /// Occurs when a key file is neither armoured nor binary OpenPGP public keys.
    #[error("key file {file} is malformed: {reason}")]
    MalformedKeyFile { file: String, reason: String },
    /// Occurs when no key directory has a file named for a pinned fingerprint
    /// (`<anything>-<FINGERPRINT>.asc`, `.gpg` or `.pgp`).
    #[error(
        "no key file for pinned fingerprint {fingerprint} in {} (the operator supplies it as <name>-{fingerprint}.asc)",
        dirs.iter().map(|dir| dir.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    MissingKeyFile {
        fingerprint: Fingerprint,
        dirs: Vec<PathBuf>,
    },
    /// Occurs when none of the key files holds the pinned key.
    #[error(
        "pinned key {fingerprint} is not in {} (found: {}){}",
        join(files), join(found),
        if skipped.is_empty() { String::new() } else { format!("; keys that could not be read: {}", skipped.join("; ")) }
    )]
    KeyNotFound {
        fingerprint: Fingerprint,
        files: Vec<String>,
        /// The primary fingerprints the files did hold.
        found: Vec<Fingerprint>,
        /// Why keys in the files were skipped.
        skipped: Vec<String>,
    },
    /// Occurs when the pinned fingerprint is a subkey's: pins name primary keys, whose
    /// bindings then decide which subkeys count.
    #[error("pinned fingerprint {fingerprint} is a subkey of {primary}; pin the primary key")]
    PinIsSubkey {
        fingerprint: Fingerprint,
        primary: Fingerprint,
    },
    /// Occurs when a key file or the key directory cannot be read.
    #[error("cannot read {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl KeyringError {
    /// A stable, short identifier of the failure, for metrics labels and the catalogue.
    pub fn kind(&self) -> &'static str {
        match self {
            KeyringError::NoPins => "key-no-pins",
            KeyringError::KeyFileTooLarge { .. } => "key-file-too-large",
            KeyringError::MalformedKeyFile { .. } => "key-file-malformed",
            KeyringError::MissingKeyFile { .. } => "key-file-missing",
            KeyringError::KeyNotFound { .. } => "key-not-found",
            KeyringError::PinIsSubkey { .. } => "key-pin-is-subkey",
            KeyringError::Io { .. } => "key-file-io",
        }
    }
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    if items.is_empty() {
        return "nothing".to_owned();
    }
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `2026-12-01 01:33:14 UTC`.
pub(crate) fn utc(time: SystemTime) -> String {
    let seconds = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    };
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|at| at.format(&format).ok())
        .unwrap_or_else(|| format!("{seconds} seconds after 1970"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_print_as_utc() {
        let at = UNIX_EPOCH + Duration::from_secs(1_796_088_794);
        assert_eq!(utc(at), "2026-12-01 01:33:14 UTC");
    }
}
