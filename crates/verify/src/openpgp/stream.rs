//! Detached signatures over a disk image checked while it streams in (Arch's and Manjaro's
//! `.iso.sig`), so the download is read once.
//!
//! An OpenPGP v4/v6 signature is a signature over a hash of: (v6 only) a salt, the data,
//! then the signature packet's own hashed part (version, type, algorithms, hashed
//! subpackets) and a trailer carrying that part's length (RFC 9580 §5.2.4). rPGP computes the
//! last two from the parsed packet (`SignatureConfig::hash_signature_data`, `trailer`), so
//! this module feeds the data to one hasher per signature packet as chunks arrive and, at
//! the end, appends what rPGP computes and checks the digest with the key's own `verify`.
//! Everything that does not depend on the data (unpinned key, weak hash, expired or revoked
//! key) is checked before the first byte, in [`IsoSignatureCheck::new`].

use super::packets::parse_signatures;
use super::verdict::{DATA_SIGNATURES, DataCheck, GoodSignature, check_packet, judge};
use super::{Keyring, SignatureError};
use digest::DynDigest;
use pgp::packet::{Signature, SignatureType, SignatureVersionSpecific};
use pgp::ser::Serialize;
use pgp::types::{KeyVersion, VerifyingKey};

/// A disk image is signed in binary mode; text mode would rewrite its line ends.
const IMAGE_SIGNATURES: [SignatureType; 1] = [SignatureType::Binary];

/// An incremental check of a detached signature over a large file:
/// [`new`](Self::new) with the signature, [`update`](Self::update) with each chunk in
/// order, [`finish`](Self::finish) for the verdict. The verdict equals
/// [`Keyring::verify_detached`] over the concatenated chunks.
pub struct IsoSignatureCheck {
    keyring: Keyring,
    label: String,
    signatures: Vec<Signature>,
    /// One hasher per signature packet; `None` for packets that cannot be checked (not
    /// pinned, or refused up front), which are judged without data.
    hashers: Vec<Option<Box<dyn DynDigest + Send>>>,
    bytes: u64,
}

impl std::fmt::Debug for IsoSignatureCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IsoSignatureCheck")
            .field("label", &self.label)
            .field("signatures", &self.signatures.len())
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl IsoSignatureCheck {
    /// Parses `signature` (binary or armoured) and fails at once when it cannot pass
    /// whatever the data: no packet by a pinned key, a weak hash, a text-mode signature
    /// (images are signed in binary mode), or a signing key that is expired, revoked,
    /// unbound or not for signing. `label` names the signature in errors.
    pub fn new(
        signature: &[u8],
        keyring: &Keyring,
        label: &str,
    ) -> Result<IsoSignatureCheck, SignatureError> {
        let signatures = parse_signatures(signature, label)?;
        // Judge with the cryptography assumed good: any error now is one the data cannot fix.
        judge(keyring, label, &signatures, &Assumed)?;
        let hashers = signatures
            .iter()
            .map(|sig| {
                // Packets that are not pinned, or refused for reasons the data cannot change,
                // are judged again at the end without data and fail the same way.
                if keyring.candidates(sig).is_empty()
                    || check_packet(label, sig, &DATA_SIGNATURES).is_err()
                {
                    return Ok(None);
                }
                check_packet(label, sig, &IMAGE_SIGNATURES)?;
                new_hasher(sig)
                    .map(Some)
                    .map_err(|reason| SignatureError::Unsupported {
                        signature: label.to_owned(),
                        issuer: super::verdict::issuer_names(sig).join(", "),
                        reason,
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(IsoSignatureCheck {
            keyring: keyring.clone(),
            label: label.to_owned(),
            signatures,
            hashers,
            bytes: 0,
        })
    }

    /// Feeds the next chunk of the file, in order; chunks may have any size.
    pub fn update(&mut self, chunk: &[u8]) {
        for hasher in self.hashers.iter_mut().flatten() {
            hasher.update(chunk);
        }
        self.bytes += chunk.len() as u64;
    }

    /// Bytes fed so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The verdict over everything fed.
    pub fn finish(self) -> Result<GoodSignature, SignatureError> {
        let digests: Vec<Option<Result<Box<[u8]>, String>>> = self
            .signatures
            .iter()
            .zip(self.hashers)
            .map(|(sig, hasher)| hasher.map(|hasher| finish_hash(sig, hasher)))
            .collect();
        judge(
            &self.keyring,
            &self.label,
            &self.signatures,
            &Prehashed { digests },
        )
    }
}

/// Starts the hash of one packet: the packet's algorithm, and the salt first for v6.
fn new_hasher(sig: &Signature) -> Result<Box<dyn DynDigest + Send>, String> {
    let config = sig.config().ok_or("unsupported signature version")?;
    let mut hasher = config
        .hash_alg
        .new_hasher()
        .map_err(|error| error.to_string())?;
    if let SignatureVersionSpecific::V6 { salt } = &config.version_specific {
        if config.hash_alg.salt_len() != Some(salt.len()) {
            return Err(format!(
                "a v6 salt of {} bytes is wrong for {:?}",
                salt.len(),
                config.hash_alg
            ));
        }
        hasher.update(salt);
    }
    Ok(hasher)
}

/// Appends the packet's hashed part and trailer and finalises.
fn finish_hash(
    sig: &Signature,
    mut hasher: Box<dyn DynDigest + Send>,
) -> Result<Box<[u8]>, String> {
    let config = sig.config().ok_or("unsupported signature version")?;
    let len = config
        .hash_signature_data(&mut hasher)
        .map_err(|error| error.to_string())?;
    hasher.update(&config.trailer(len).map_err(|error| error.to_string())?);
    Ok(hasher.finalize())
}

/// The check before any data: every packet passes cryptographically.
struct Assumed;

impl DataCheck for Assumed {
    fn check<K: VerifyingKey + Serialize>(
        &self,
        _index: usize,
        _sig: &Signature,
        _key: &K,
    ) -> Result<(), String> {
        Ok(())
    }
}

/// The check at the end: each packet's digest is done, the key verifies it.
struct Prehashed {
    digests: Vec<Option<Result<Box<[u8]>, String>>>,
}

impl DataCheck for Prehashed {
    fn check<K: VerifyingKey + Serialize>(
        &self,
        index: usize,
        sig: &Signature,
        key: &K,
    ) -> Result<(), String> {
        let digest = match self.digests.get(index) {
            Some(Some(Ok(digest))) => digest,
            Some(Some(Err(reason))) => return Err(reason.clone()),
            Some(None) | None => return Err("this signature was not hashed".to_owned()),
        };
        let config = sig.config().ok_or("unsupported signature version")?;
        // v6 signatures come only from v6 keys and v6 keys make only v6 signatures.
        let v6_signature = matches!(config.version_specific, SignatureVersionSpecific::V6 { .. });
        if v6_signature != (key.version() == KeyVersion::V6) {
            return Err("signature and key versions do not match".to_owned());
        }
        if sig.signed_hash_value() != Some([digest[0], digest[1]]) {
            return Err("the digest of the data does not match the signature".to_owned());
        }
        let bytes = sig.signature().ok_or("unsupported signature version")?;
        key.verify(config.hash_alg, digest, bytes)
            .map_err(|error| error.to_string())
    }
}
