//! Throwaway OpenPGP keys built with rPGP from a seeded RNG, with every self-signature made
//! by hand so each test controls creation and expiry times, flags, bindings and
//! revocations. Ed25519 keeps generation fast; one RSA key shows RSA works too.

use pgp::composed::{
    ArmorOptions, CleartextSignedMessage, DetachedSignature, KeyType, SignedKeyDetails,
    SignedPublicKey, SignedPublicSubKey,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{
    KeyFlags, PubKeyInner, PublicKey, PublicSubkey, RevocationCode, SecretKey, SecretSubkey,
    Signature, SignatureConfig, SignatureType, Subpacket, SubpacketData, UserId,
};
use pgp::ser::Serialize;
use pgp::types::{
    Duration as PgpDuration, KeyDetails, KeyVersion, Password, SignedUser, SigningKey, Tag,
    Timestamp,
};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;
use repack_verify::{Fingerprint, Keyring};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// 2025-01-01 00:00:00 UTC: when the test keys are made.
pub const KEY_CREATED: u32 = 1_735_689_600;
/// 2026-01-01 00:00:00 UTC: the reference time of the checks.
pub const NOW: u32 = 1_767_225_600;
/// 2025-06-01 00:00:00 UTC: when the test data is signed.
pub const SIGNED_AT: u32 = 1_748_736_000;
pub const DAY: u32 = 86_400;

pub fn time(secs: u32) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::from(secs))
}

/// How a subkey is attached to its certificate.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// Bound by the primary, with a back-signature.
    Proper,
    /// Bound by the primary, but without the subkey's back-signature.
    NoBackSignature,
    /// A binding signature made by some other primary key (a foreign subkey grafted on).
    Foreign,
    /// A binding that names the pinned primary as issuer but was signed by another key.
    Forged,
    /// Bound by the primary, but the back-signature was made by another key.
    BadBackSignature,
}

#[derive(Clone)]
pub struct SubkeySpec {
    pub created: u32,
    pub expires_after: Option<u32>,
    pub can_sign: bool,
    pub binding: Binding,
    pub revoked: bool,
}

impl Default for SubkeySpec {
    fn default() -> Self {
        SubkeySpec {
            created: KEY_CREATED,
            expires_after: None,
            can_sign: true,
            binding: Binding::Proper,
            revoked: false,
        }
    }
}

#[derive(Clone)]
pub struct CertSpec {
    pub seed: u64,
    pub rsa: bool,
    /// A v6 key (RFC 9580: Ed25519, 64-digit fingerprint, salted v6 signatures).
    pub v6: bool,
    pub created: u32,
    pub expires_after: Option<u32>,
    pub can_sign: bool,
    pub revoked: bool,
    pub subkeys: Vec<SubkeySpec>,
}

impl CertSpec {
    pub fn new(seed: u64) -> CertSpec {
        CertSpec {
            seed,
            rsa: false,
            v6: false,
            created: KEY_CREATED,
            expires_after: None,
            can_sign: true,
            revoked: false,
            subkeys: Vec::new(),
        }
    }

    pub fn build(&self) -> TestKey {
        TestKey::build(self)
    }
}

/// A certificate with its secret keys.
pub struct TestKey {
    pub primary: SecretKey,
    pub subkeys: Vec<SecretSubkey>,
    pub public: SignedPublicKey,
}

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

fn key_type(rsa: bool, v6: bool) -> KeyType {
    match (rsa, v6) {
        (true, _) => KeyType::Rsa(2048),
        (false, true) => KeyType::Ed25519,
        (false, false) => KeyType::Ed25519Legacy,
    }
}

fn version(v6: bool) -> KeyVersion {
    if v6 { KeyVersion::V6 } else { KeyVersion::V4 }
}

fn primary_key(seed: u64, rsa: bool, v6: bool, created: u32) -> SecretKey {
    let key_type = key_type(rsa, v6);
    let (public, secret) = key_type.generate(rng(seed)).expect("generate");
    let inner = PubKeyInner::new(
        version(v6),
        key_type.to_alg(),
        Timestamp::from_secs(created),
        None,
        public,
    )
    .expect("key");
    SecretKey::new(PublicKey::from_inner(inner).expect("key"), secret).expect("secret key")
}

fn subkey(seed: u64, v6: bool, created: u32) -> SecretSubkey {
    let key_type = key_type(false, v6);
    let (public, secret) = key_type.generate(rng(seed)).expect("generate");
    let inner = PubKeyInner::new(
        version(v6),
        key_type.to_alg(),
        Timestamp::from_secs(created),
        None,
        public,
    )
    .expect("key");
    SecretSubkey::new(PublicSubkey::from_inner(inner).expect("key"), secret).expect("subkey")
}

/// A signature config (v4, or v6 for a v6 key) issued by `signer` at `at`, with `extra`
/// hashed subpackets.
pub fn config(
    typ: SignatureType,
    signer: &impl SigningKey,
    at: u32,
    extra: Vec<SubpacketData>,
) -> SignatureConfig {
    let v6 = signer.version() == KeyVersion::V6;
    let mut config = if v6 {
        SignatureConfig::v6(
            rng(u64::from(at)),
            typ,
            signer.algorithm(),
            HashAlgorithm::Sha256,
        )
        .expect("v6 config")
    } else {
        SignatureConfig::v4(typ, signer.algorithm(), HashAlgorithm::Sha256)
    };
    config.hashed_subpackets = [
        SubpacketData::SignatureCreationTime(Timestamp::from_secs(at)),
        SubpacketData::IssuerFingerprint(signer.fingerprint()),
    ]
    .into_iter()
    .chain(extra)
    .map(|data| Subpacket::regular(data).expect("subpacket"))
    .collect();
    // v6 signatures name their issuer by fingerprint only.
    if !v6 {
        config.unhashed_subpackets =
            vec![Subpacket::regular(SubpacketData::IssuerKeyId(signer.legacy_key_id())).unwrap()];
    }
    config
}

fn flags(sign: bool) -> KeyFlags {
    let mut flags = KeyFlags::default();
    flags.set_sign(sign);
    flags.set_certify(true);
    flags
}

fn expiry(after: Option<u32>) -> Vec<SubpacketData> {
    after
        .map(|seconds| SubpacketData::KeyExpirationTime(PgpDuration::from_secs(seconds)))
        .into_iter()
        .collect()
}

impl TestKey {
    fn build(spec: &CertSpec) -> TestKey {
        let pw = Password::empty();
        let primary = primary_key(spec.seed, spec.rsa, spec.v6, spec.created);
        let public_primary = primary.public_key().clone();
        let user_id = UserId::from_str(
            Default::default(),
            format!(
                "Repack Test {} <test-{}@repack.invalid>",
                spec.seed, spec.seed
            ),
        )
        .unwrap();
        let mut extra = vec![SubpacketData::KeyFlags(flags(spec.can_sign))];
        extra.extend(expiry(spec.expires_after));
        let certification = config(SignatureType::CertPositive, &primary, spec.created, extra)
            .sign_certification(&primary, &public_primary, &pw, Tag::UserId, &user_id)
            .expect("certification");
        let revocations = if spec.revoked {
            vec![revocation(
                &primary,
                SignatureType::KeyRevocation,
                spec.created + DAY,
                |config| config.sign_key(&primary, &pw, &public_primary),
            )]
        } else {
            Vec::new()
        };
        let mut secret_subkeys = Vec::new();
        let mut public_subkeys = Vec::new();
        for (index, sub) in spec.subkeys.iter().enumerate() {
            let secret = subkey(spec.seed * 100 + index as u64 + 1, spec.v6, sub.created);
            let mut signatures = vec![bind(&primary, &secret, sub, spec.seed, spec.v6)];
            if sub.revoked {
                signatures.push(revocation(
                    &primary,
                    SignatureType::SubkeyRevocation,
                    sub.created + DAY,
                    |config| {
                        config.sign_subkey_binding(
                            &primary,
                            &public_primary,
                            &pw,
                            secret.public_key(),
                        )
                    },
                ));
            }
            public_subkeys.push(SignedPublicSubKey::new(
                secret.public_key().clone(),
                signatures,
            ));
            secret_subkeys.push(secret);
        }
        let public = SignedPublicKey::new(
            public_primary,
            SignedKeyDetails::new(
                revocations,
                Vec::new(),
                vec![SignedUser::new(user_id, vec![certification])],
                Vec::new(),
            ),
            public_subkeys,
        );
        TestKey {
            primary,
            subkeys: secret_subkeys,
            public,
        }
    }

    pub fn fingerprint(&self) -> Fingerprint {
        self.primary.fingerprint().to_string().parse().unwrap()
    }

    pub fn subkey_fingerprint(&self, index: usize) -> Fingerprint {
        self.subkeys[index]
            .fingerprint()
            .to_string()
            .parse()
            .unwrap()
    }

    /// The public certificate, armoured as a key file.
    pub fn armoured(&self) -> String {
        self.public
            .to_armored_string(ArmorOptions::default())
            .expect("armour")
    }

    /// The public certificate in binary form.
    pub fn binary(&self) -> Vec<u8> {
        self.public.to_bytes().expect("bytes")
    }

    /// A keyring pinning this key alone, checked at [`NOW`].
    pub fn keyring(&self) -> Keyring {
        Keyring::from_key_files(
            &[self.fingerprint()],
            [("test.asc", self.armoured().as_bytes())],
        )
        .expect("keyring")
        .at(time(NOW))
    }
}

fn bind(
    primary: &SecretKey,
    sub: &SecretSubkey,
    spec: &SubkeySpec,
    seed: u64,
    v6: bool,
) -> Signature {
    let pw = Password::empty();
    let mut sub_flags = KeyFlags::default();
    sub_flags.set_sign(spec.can_sign);
    let mut extra = vec![SubpacketData::KeyFlags(sub_flags)];
    extra.extend(expiry(spec.expires_after));
    let stranger = primary_key(seed + 10_000, false, v6, spec.created);
    // Who the binding names as issuer, and whose secret actually signs it.
    let (issuer, signer) = match spec.binding {
        Binding::Foreign => (&stranger, &stranger),
        Binding::Forged => (primary, &stranger),
        Binding::Proper | Binding::NoBackSignature | Binding::BadBackSignature => {
            (primary, primary)
        }
    };
    if spec.can_sign && spec.binding != Binding::NoBackSignature {
        let other_subkey = subkey(seed + 20_000, v6, spec.created);
        let back_signer = if spec.binding == Binding::BadBackSignature {
            &other_subkey
        } else {
            sub
        };
        let back = config(SignatureType::KeyBinding, sub, spec.created, Vec::new())
            .sign_primary_key_binding(back_signer, sub.public_key(), &pw, issuer.public_key())
            .expect("back-signature");
        extra.push(SubpacketData::EmbeddedSignature(Box::new(back)));
    }
    config(SignatureType::SubkeyBinding, issuer, spec.created, extra)
        .sign_subkey_binding(signer, issuer.public_key(), &pw, sub.public_key())
        .expect("binding")
}

fn revocation(
    signer: &SecretKey,
    typ: SignatureType,
    at: u32,
    sign: impl FnOnce(SignatureConfig) -> pgp::errors::Result<Signature>,
) -> Signature {
    let reason = SubpacketData::RevocationReason(
        RevocationCode::KeyCompromised,
        "test key compromised".into(),
    );
    sign(config(typ, signer, at, vec![reason])).expect("revocation")
}

/// A binary-mode data signature over `data` by `key` at `at`.
pub fn sign_data(key: &impl SigningKey, data: &[u8], at: u32) -> Signature {
    config(SignatureType::Binary, key, at, Vec::new())
        .sign(key, &Password::empty(), data)
        .expect("signature")
}

/// A detached signature, binary (`SHA256SUMS.gpg`, `.iso.sig`).
pub fn detached_binary(signatures: Vec<Signature>) -> Vec<u8> {
    signatures
        .into_iter()
        .flat_map(|sig| DetachedSignature::new(sig).to_bytes().expect("bytes"))
        .collect()
}

/// A detached signature, armoured (`SHA256SUMS.sign`).
pub fn detached_armoured(sig: Signature) -> String {
    DetachedSignature::new(sig)
        .to_armored_string(ArmorOptions::default())
        .expect("armour")
}

/// A clearsigned document (`CHECKSUM`), text mode, signed by `key` at `at`.
pub fn clearsign(key: &impl SigningKey, text: &str, at: u32) -> String {
    let config = config(SignatureType::Text, key, at, Vec::new());
    CleartextSignedMessage::new(text, config, key, &Password::empty())
        .expect("clearsign")
        .to_armored_string(ArmorOptions::default())
        .expect("armour")
}
