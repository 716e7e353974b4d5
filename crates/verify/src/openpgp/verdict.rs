//! The decision: do these signature packets prove that a pinned key signed? Shared by the
//! detached, clearsigned and streamed paths, which differ only in how the cryptographic
//! check reaches the signed data ([`DataCheck`]).
//!
//! Each packet is matched to the pinned keys it names as issuer (primary or subkey), checked
//! cryptographically, then checked against the key's validity at the signature's creation
//! time and at the reference time. The input is accepted when at least one packet passes and
//! no packet by a pinned key fails the cryptographic check (a failing one means the data or
//! the signature was altered). Packets by keys that are not pinned are ignored unless
//! nothing else is there.

use super::error::utc;
use super::fingerprint::key_id_hex;
use super::keyring::Candidate;
use super::{Fingerprint, Keyring, SignatureError};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{Signature, SignatureType};
use pgp::ser::Serialize;
use pgp::types::VerifyingKey;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A signature that passed: made by a pinned key (or a subkey bound to it), valid then and
/// now, over exactly the data given.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GoodSignature {
    /// The pinned (primary) fingerprint.
    pub pinned: Fingerprint,
    /// The key that made the signature: the pinned primary or one of its subkeys.
    pub key: Fingerprint,
    /// When the signature says it was made.
    pub created: SystemTime,
    /// The pinned key's first user ID (for logs), e.g. `Fedora (42) <fedora-42-primary@…>`.
    pub user_id: Option<String>,
}

/// How one path checks a signature packet against a key cryptographically.
pub(crate) trait DataCheck {
    /// Checks signature packet number `index` (`sig`) as made by `key`; `Err` says why not.
    fn check<K: VerifyingKey + Serialize>(
        &self,
        index: usize,
        sig: &Signature,
        key: &K,
    ) -> Result<(), String>;
}

/// What became of one packet that did not pass.
enum Failure {
    /// No pinned key is named as its issuer; the issuers as printed.
    Unpinned(Vec<String>),
    Failed(SignatureError),
}

/// Decides over every packet (see the module comment).
pub(crate) fn judge(
    keyring: &Keyring,
    label: &str,
    signatures: &[Signature],
    check: &impl DataCheck,
) -> Result<GoodSignature, SignatureError> {
    if signatures.is_empty() {
        return Err(SignatureError::NoSignature {
            signature: label.to_owned(),
        });
    }
    let now = keyring.now();
    let mut good = None;
    let mut failures = Vec::new();
    let mut unpinned = Vec::new();
    for (index, sig) in signatures.iter().enumerate() {
        match judge_one(keyring, label, index, sig, check, now) {
            Ok(passed) => {
                good.get_or_insert(passed);
            }
            Err(Failure::Unpinned(issuers)) => unpinned.extend(issuers),
            Err(Failure::Failed(error)) => failures.push(error),
        }
    }
    if let Some(bad) = failures
        .iter()
        .position(|error| matches!(error, SignatureError::BadSignature { .. }))
    {
        return Err(failures.swap_remove(bad));
    }
    if let Some(passed) = good {
        return Ok(passed);
    }
    if let Some(first) = failures.into_iter().next() {
        return Err(first);
    }
    unpinned.dedup();
    Err(SignatureError::UnpinnedKey {
        signature: label.to_owned(),
        issuers: unpinned,
        pinned: keyring.pinned(),
    })
}

/// Checks the packet's own properties that do not depend on the key: version, type, hash,
/// creation time. Also used before a streamed check starts.
pub(crate) fn check_packet(
    label: &str,
    sig: &Signature,
    allowed: &[SignatureType],
) -> Result<SystemTime, SignatureError> {
    let issuer = issuer_names(sig).join(", ");
    let unsupported = |reason: String| SignatureError::Unsupported {
        signature: label.to_owned(),
        issuer: issuer.clone(),
        reason,
    };
    let Some(config) = sig.config() else {
        return Err(unsupported(format!(
            "signature packet version {:?}",
            sig.version()
        )));
    };
    if !allowed.contains(&config.typ) {
        return Err(unsupported(format!(
            "a {:?} signature where a {} signature was expected",
            config.typ,
            allowed
                .iter()
                .map(|typ| format!("{typ:?}"))
                .collect::<Vec<_>>()
                .join(" or ")
        )));
    }
    if matches!(
        config.hash_alg,
        HashAlgorithm::Md5 | HashAlgorithm::Sha1 | HashAlgorithm::Ripemd160
    ) {
        return Err(SignatureError::WeakHash {
            signature: label.to_owned(),
            issuer,
            hash: format!("{:?}", config.hash_alg),
        });
    }
    let Some(created) = sig.created() else {
        return Err(SignatureError::Malformed {
            signature: label.to_owned(),
            reason: format!("the signature by {issuer} has no hashed creation time"),
        });
    };
    Ok(UNIX_EPOCH + Duration::from_secs(u64::from(created.as_secs())))
}

/// The signature types a data signature may have.
pub(crate) const DATA_SIGNATURES: [SignatureType; 2] = [SignatureType::Binary, SignatureType::Text];

fn judge_one(
    keyring: &Keyring,
    label: &str,
    index: usize,
    sig: &Signature,
    check: &impl DataCheck,
    now: SystemTime,
) -> Result<GoodSignature, Failure> {
    let candidates = keyring.candidates(sig);
    if candidates.is_empty() {
        return Err(Failure::Unpinned(issuer_names(sig)));
    }
    let made = check_packet(label, sig, &DATA_SIGNATURES).map_err(Failure::Failed)?;
    let mut bad = None;
    for candidate in candidates {
        let crypto = match candidate.subkey {
            None => check.check(index, sig, &candidate.cert.key.primary_key),
            Some(subkey) => check.check(index, sig, &candidate.cert.key.public_subkeys[subkey].key),
        };
        match crypto {
            Ok(()) => return validity(label, sig, candidate, made, now).map_err(Failure::Failed),
            Err(reason) => {
                bad = Some(SignatureError::BadSignature {
                    signature: label.to_owned(),
                    key: candidate.fingerprint(),
                    primary: candidate.cert.fingerprint.clone(),
                    reason,
                });
            }
        }
    }
    Err(Failure::Failed(
        bad.expect("at least one candidate was tried"),
    ))
}

/// The trust rules about time, revocation, binding and flags, for a packet that verified
/// cryptographically with `candidate`.
pub(crate) fn validity(
    label: &str,
    sig: &Signature,
    candidate: Candidate<'_>,
    made: SystemTime,
    now: SystemTime,
) -> Result<GoodSignature, SignatureError> {
    let cert = candidate.cert;
    let pinned = cert.fingerprint.clone();
    let key = candidate.fingerprint();
    let signature = || label.to_owned();
    let primary = &cert.state.primary;
    if let Err(reason) = &primary.bound {
        return Err(SignatureError::KeyInvalid {
            signature: signature(),
            key: pinned.clone(),
            primary: pinned,
            reason: format!("the pinned key: {reason}"),
        });
    }
    if let Some(reason) = &primary.revoked {
        return Err(SignatureError::KeyRevoked {
            signature: signature(),
            key: pinned.clone(),
            primary: pinned,
            reason: reason.clone(),
        });
    }
    let mut keys = vec![(pinned.clone(), primary)];
    if candidate.subkey.is_some() {
        let state = candidate.state();
        if let Err(reason) = &state.bound {
            return Err(SignatureError::SubkeyNotBound {
                signature: signature(),
                key,
                primary: pinned,
                reason: reason.clone(),
            });
        }
        if let Some(reason) = &state.revoked {
            return Err(SignatureError::KeyRevoked {
                signature: signature(),
                key,
                primary: pinned,
                reason: reason.clone(),
            });
        }
        keys.push((key.clone(), state));
    }
    for (fingerprint, state) in keys {
        if let Some(expires) = state.expires {
            let expired = UNIX_EPOCH + Duration::from_secs(expires);
            if expired <= made || expired <= now {
                return Err(SignatureError::KeyExpired {
                    signature: signature(),
                    key: fingerprint,
                    primary: pinned,
                    expired,
                    made,
                    checked: now,
                });
            }
        }
        let created = UNIX_EPOCH + Duration::from_secs(state.created);
        if made < created {
            return Err(SignatureError::KeyInvalid {
                signature: signature(),
                key: fingerprint,
                primary: pinned,
                reason: format!(
                    "the signature (made {}) predates the key (created {})",
                    utc(made),
                    utc(created)
                ),
            });
        }
    }
    if let Err(reason) = &candidate.state().can_sign {
        return Err(SignatureError::NotSigningKey {
            signature: signature(),
            key,
            primary: pinned,
            reason: reason.clone(),
        });
    }
    if let Some(lifetime) = sig
        .signature_expiration_time()
        .map(|duration| u64::from(duration.as_secs()))
        .filter(|&seconds| seconds > 0)
    {
        let expired = made + Duration::from_secs(lifetime);
        if expired <= now {
            return Err(SignatureError::SignatureExpired {
                signature: signature(),
                key,
                expired,
            });
        }
    }
    Ok(GoodSignature {
        pinned,
        key,
        created: made,
        user_id: cert
            .key
            .details
            .users
            .first()
            .map(|user| String::from_utf8_lossy(user.id.id()).into_owned()),
    })
}

/// The issuers a packet names: fingerprints where given, else key IDs.
pub(crate) fn issuer_names(sig: &Signature) -> Vec<String> {
    let fingerprints: Vec<String> = sig
        .issuer_fingerprint()
        .into_iter()
        .filter_map(Fingerprint::from_pgp)
        .map(|fingerprint| fingerprint.to_string())
        .collect();
    if !fingerprints.is_empty() {
        return fingerprints;
    }
    let key_ids: Vec<String> = sig
        .issuer_key_id()
        .into_iter()
        .map(|id| format!("key ID {}", key_id_hex(id.as_ref())))
        .collect();
    if key_ids.is_empty() {
        vec!["an unnamed key".to_owned()]
    } else {
        key_ids
    }
}
