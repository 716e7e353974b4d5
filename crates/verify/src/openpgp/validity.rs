//! What a pinned certificate's own signatures say about its keys: which subkeys the primary
//! bound (with a back-signature from the subkey), which keys may sign, when each expires and
//! whether it is revoked. Worked out once per keyring, from self-signatures that verify
//! cryptographically; third-party certifications and anything unverifiable are ignored.

use pgp::composed::SignedPublicKey;
use pgp::packet::{Signature, SignatureType, SubpacketData};
use pgp::types::{KeyDetails, Tag};

/// What one key (primary or subkey) may do, from its newest valid self-signature.
#[derive(Debug, Clone)]
pub(crate) struct KeyState {
    /// Creation time, seconds since 1970.
    pub created: u64,
    /// Expiry, seconds since 1970; `None`: never expires.
    pub expires: Option<u64>,
    /// Why the key is revoked, when a valid revocation exists.
    pub revoked: Option<String>,
    /// `Err(reason)` when the key's flags do not allow signing.
    pub can_sign: Result<(), String>,
    /// `Err(reason)` when no valid self-signature (primary) or binding (subkey) exists: the
    /// key counts for nothing.
    pub bound: Result<(), String>,
}

/// The states of a certificate's primary key and of each subkey (same order as
/// `SignedPublicKey::public_subkeys`).
#[derive(Debug, Clone)]
pub(crate) struct CertState {
    pub primary: KeyState,
    pub subkeys: Vec<KeyState>,
}

impl CertState {
    pub(crate) fn of(cert: &SignedPublicKey) -> CertState {
        CertState {
            primary: primary_state(cert),
            subkeys: (0..cert.public_subkeys.len())
                .map(|index| subkey_state(cert, index))
                .collect(),
        }
    }
}

fn primary_state(cert: &SignedPublicKey) -> KeyState {
    let primary = &cert.primary_key;
    let issued_by_primary = |sig: &&Signature| names_issuer(sig, primary);
    let direct = cert
        .details
        .direct_signatures
        .iter()
        .filter(issued_by_primary)
        .filter(|sig| sig.typ() == Some(SignatureType::Key) && sig.verify_key(primary).is_ok());
    let certifications = cert.details.users.iter().flat_map(|user| {
        user.signatures
            .iter()
            .filter(issued_by_primary)
            .filter(|sig| {
                matches!(
                    sig.typ(),
                    Some(
                        SignatureType::CertGeneric
                            | SignatureType::CertPersona
                            | SignatureType::CertCasual
                            | SignatureType::CertPositive
                    )
                ) && sig
                    .verify_certification(primary, Tag::UserId, &user.id)
                    .is_ok()
            })
    });
    let newest = newest(direct.chain(certifications));
    let revoked = cert
        .details
        .revocation_signatures
        .iter()
        .chain(&cert.details.direct_signatures)
        .filter(issued_by_primary)
        .find(|sig| {
            sig.typ() == Some(SignatureType::KeyRevocation) && sig.verify_key(primary).is_ok()
        })
        .map(revocation_reason);
    let created = u64::from(primary.created_at().as_secs());
    let Some(newest) = newest else {
        return KeyState {
            created,
            expires: None,
            revoked,
            can_sign: Ok(()),
            bound: Err("it has no valid self-signature".to_owned()),
        };
    };
    KeyState {
        created,
        expires: expiry(created, newest),
        revoked,
        // A primary key without a key-flags subpacket predates them and may sign.
        can_sign: match flags(newest) {
            Some(false) => Err("its self-signature's key flags do not include signing".to_owned()),
            Some(true) | None => Ok(()),
        },
        bound: Ok(()),
    }
}

fn subkey_state(cert: &SignedPublicKey, index: usize) -> KeyState {
    let primary = &cert.primary_key;
    let subkey = &cert.public_subkeys[index];
    let created = u64::from(subkey.key.created_at().as_secs());
    let from_primary = |sig: &&Signature| names_issuer(sig, primary);
    let bindings = subkey.signatures.iter().filter(from_primary).filter(|sig| {
        sig.typ() == Some(SignatureType::SubkeyBinding)
            && sig.verify_subkey_binding(primary, &subkey.key).is_ok()
    });
    let revoked = subkey
        .signatures
        .iter()
        .filter(from_primary)
        .find(|sig| {
            sig.typ() == Some(SignatureType::SubkeyRevocation)
                && sig.verify_subkey_binding(primary, &subkey.key).is_ok()
        })
        .map(revocation_reason);
    let Some(binding) = newest(bindings) else {
        return KeyState {
            created,
            expires: None,
            revoked,
            can_sign: Err("it is not bound".to_owned()),
            bound: Err("no valid binding signature from the pinned key".to_owned()),
        };
    };
    // A subkey signs only when its binding says so and the subkey itself agreed to the
    // binding (the back-signature), so nobody can claim another key's subkey as theirs.
    let can_sign = match flags(binding) {
        Some(true) => Ok(()),
        Some(false) => Err("its binding's key flags do not include signing".to_owned()),
        None => Err("its binding has no key flags".to_owned()),
    };
    let bound = if can_sign.is_ok() {
        match binding.embedded_signature() {
            Some(back)
                if back
                    .verify_primary_key_binding(&subkey.key, primary)
                    .is_ok() =>
            {
                Ok(())
            }
            Some(_) => Err("its back-signature does not verify".to_owned()),
            None => Err("its binding has no back-signature from the subkey".to_owned()),
        }
    } else {
        Ok(())
    };
    KeyState {
        created,
        expires: expiry(created, binding),
        revoked,
        can_sign,
        bound,
    }
}

/// True when `sig` names `key` as its issuer, or names no issuer at all (then only the
/// cryptographic check decides).
pub(crate) fn names_issuer(sig: &Signature, key: &impl KeyDetails) -> bool {
    let fingerprints = sig.issuer_fingerprint();
    let key_ids = sig.issuer_key_id();
    (fingerprints.is_empty() && key_ids.is_empty())
        || fingerprints.iter().any(|fp| **fp == key.fingerprint())
        || key_ids.iter().any(|id| **id == key.legacy_key_id())
}

fn newest<'a>(signatures: impl Iterator<Item = &'a Signature>) -> Option<&'a Signature> {
    signatures
        .filter(|sig| sig.created().is_some())
        .max_by_key(|sig| sig.created())
}

/// Absolute expiry from a self-signature's key-expiration subpacket (seconds after the key's
/// creation; 0 or absent: never).
fn expiry(created: u64, sig: &Signature) -> Option<u64> {
    sig.key_expiration_time()
        .map(|duration| u64::from(duration.as_secs()))
        .filter(|&seconds| seconds > 0)
        .map(|seconds| created + seconds)
}

/// `Some(sign)` from the hashed key-flags subpacket, `None` when there is none.
fn flags(sig: &Signature) -> Option<bool> {
    sig.config()?
        .hashed_subpackets()
        .find_map(|packet| match &packet.data {
            SubpacketData::KeyFlags(flags) => Some(flags.sign()),
            _ => None,
        })
}

fn revocation_reason(sig: &Signature) -> String {
    let code = sig
        .revocation_reason_code()
        .map(|code| format!("{code:?}"))
        .unwrap_or_else(|| "no reason code".to_owned());
    match sig
        .revocation_reason_string()
        .map(|text| String::from_utf8_lossy(text).trim().to_owned())
        .filter(|text| !text.is_empty())
    {
        Some(text) => format!("{code}: {text}"),
        None => code,
    }
}
