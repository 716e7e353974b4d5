//! Reading OpenPGP input: signature packets from a detached signature (binary like Ubuntu's
//! `SHA256SUMS.gpg` and Arch's `.iso.sig`, or armoured like Debian's `SHA256SUMS.sign`), and
//! public keys from key files (armoured or binary, several keys and armour blocks per file).
//! Sizes are capped before parsing; the parsing itself is rPGP's.

use super::{KeyringError, SignatureError};
use pgp::composed::{Deserializable, DetachedSignature, SignedPublicKey};
use pgp::packet::Signature;

/// Largest detached signature accepted. One RSA-4096 signature is about 570 bytes, armoured
/// about 850; this leaves room for dozens.
pub const MAX_SIGNATURE_BYTES: usize = 64 * 1024;
/// Most signature packets examined in one input (Debian's `InRelease` carries three).
pub const MAX_SIGNATURES: usize = 16;
/// Largest key file accepted: a single upstream key is a few kilobytes, a whole distribution
/// keyring (Arch's 164 keys) well under this.
pub const MAX_KEY_FILE_BYTES: usize = 16 * 1024 * 1024;
/// Most keys read from one key file.
const MAX_KEYS_PER_FILE: usize = 10_000;

const ARMOUR_BEGIN: &[u8] = b"-----BEGIN PGP ";
const PUBLIC_KEY_BEGIN: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
const PRIVATE_KEY_BEGIN: &str = "-----BEGIN PGP PRIVATE KEY BLOCK-----";

/// True when `bytes` (after leading whitespace and a BOM) start an ASCII armour.
pub(crate) fn is_armoured(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    bytes[start..].starts_with(ARMOUR_BEGIN)
}

/// Every signature packet of a detached signature, armoured or binary.
pub(crate) fn parse_signatures(
    bytes: &[u8],
    label: &str,
) -> Result<Vec<Signature>, SignatureError> {
    if bytes.len() > MAX_SIGNATURE_BYTES {
        return Err(SignatureError::TooLarge {
            signature: label.to_owned(),
            size: bytes.len(),
            limit: MAX_SIGNATURE_BYTES,
        });
    }
    let malformed = |reason: String| SignatureError::Malformed {
        signature: label.to_owned(),
        reason,
    };
    if bytes.is_empty() {
        return Err(SignatureError::NoSignature {
            signature: label.to_owned(),
        });
    }
    let parsed = if is_armoured(bytes) {
        DetachedSignature::from_armor_many_buf(bytes)
            .map(|(signatures, _headers)| signatures)
            .map_err(|error| malformed(format!("bad armour: {error}")))?
    } else if bytes[0] & 0x80 == 0 {
        return Err(malformed(
            "neither an ASCII armour (`-----BEGIN PGP SIGNATURE-----`) nor binary OpenPGP packets"
                .to_owned(),
        ));
    } else {
        DetachedSignature::from_bytes_many(bytes)
            .map_err(|error| malformed(format!("bad packets: {error}")))?
    };
    let mut signatures = Vec::new();
    for result in parsed.take(MAX_SIGNATURES + 1) {
        let detached = result.map_err(|error| malformed(format!("bad packet: {error}")))?;
        signatures.push(detached.signature);
    }
    if signatures.len() > MAX_SIGNATURES {
        return Err(malformed(format!(
            "more than {MAX_SIGNATURES} signature packets"
        )));
    }
    if signatures.is_empty() {
        return Err(SignatureError::NoSignature {
            signature: label.to_owned(),
        });
    }
    Ok(signatures)
}

/// The public keys of a key file, and a note for each key that could not be read (they
/// are skipped: a whole distribution keyring may hold keys rPGP cannot read, and only the
/// pinned ones matter).
pub(crate) fn parse_key_file(
    bytes: &[u8],
    file: &str,
) -> Result<(Vec<SignedPublicKey>, Vec<String>), KeyringError> {
    if bytes.len() > MAX_KEY_FILE_BYTES {
        return Err(KeyringError::KeyFileTooLarge {
            file: file.to_owned(),
            size: bytes.len(),
            limit: MAX_KEY_FILE_BYTES,
        });
    }
    let malformed = |reason: String| KeyringError::MalformedKeyFile {
        file: file.to_owned(),
        reason,
    };
    let mut keys = Vec::new();
    let mut skipped = Vec::new();
    if is_armoured(bytes) {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| malformed("armoured key file is not UTF-8 text".to_owned()))?;
        if text.contains(PRIVATE_KEY_BEGIN) {
            return Err(malformed(
                "it holds a secret key; key files hold public keys only".to_owned(),
            ));
        }
        let starts: Vec<usize> = text
            .match_indices(PUBLIC_KEY_BEGIN)
            .map(|(at, _)| at)
            .collect();
        if starts.is_empty() {
            return Err(malformed(
                "the armour is not a `PGP PUBLIC KEY BLOCK`".to_owned(),
            ));
        }
        for (block, start) in starts.into_iter().enumerate() {
            let (parsed, _headers) = SignedPublicKey::from_armor_many_buf(&bytes[start..])
                .map_err(|error| malformed(format!("armour block {}: {error}", block + 1)))?;
            collect(parsed, &mut keys, &mut skipped);
        }
    } else if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        let parsed = SignedPublicKey::from_bytes_many(bytes)
            .map_err(|error| malformed(format!("bad packets: {error}")))?;
        collect(parsed, &mut keys, &mut skipped);
    } else {
        return Err(malformed(
            "neither an ASCII armour (`-----BEGIN PGP PUBLIC KEY BLOCK-----`) nor binary OpenPGP packets"
                .to_owned(),
        ));
    }
    if keys.is_empty() && skipped.is_empty() {
        return Err(malformed("it holds no public key".to_owned()));
    }
    Ok((keys, skipped))
}

fn collect(
    parsed: impl Iterator<Item = pgp::errors::Result<SignedPublicKey>>,
    keys: &mut Vec<SignedPublicKey>,
    skipped: &mut Vec<String>,
) {
    for result in parsed.take(MAX_KEYS_PER_FILE) {
        match result {
            Ok(key) => keys.push(key),
            Err(error) => skipped.push(error.to_string()),
        }
    }
}
