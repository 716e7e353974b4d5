//! Detached signatures over data held in memory: Ubuntu's `SHA256SUMS.gpg` (binary), Debian's
//! `SHA256SUMS.sign` (armoured). Text-mode signatures are checked over the data with line
//! ends normalised, as OpenPGP defines them.

use super::packets::parse_signatures;
use super::verdict::{DataCheck, GoodSignature, judge};
use super::{Keyring, SignatureError};
use pgp::packet::Signature;
use pgp::ser::Serialize;
use pgp::types::VerifyingKey;

/// The cryptographic check over bytes in memory: rPGP hashes them per the packet.
struct InMemory<'a> {
    data: &'a [u8],
}

impl DataCheck for InMemory<'_> {
    fn check<K: VerifyingKey + Serialize>(
        &self,
        _index: usize,
        sig: &Signature,
        key: &K,
    ) -> Result<(), String> {
        sig.verify(key, self.data)
            .map_err(|error| error.to_string())
    }
}

impl Keyring {
    /// Verifies `signature` (binary or armoured, one or more packets) over `data`. `label`
    /// names the signature in errors (its URL, say).
    pub fn verify_detached(
        &self,
        data: &[u8],
        signature: &[u8],
        label: &str,
    ) -> Result<GoodSignature, SignatureError> {
        let signatures = parse_signatures(signature, label)?;
        judge(self, label, &signatures, &InMemory { data })
    }
}

/// Checks over in-memory text for the clearsigned path.
pub(crate) fn in_memory(data: &[u8]) -> impl DataCheck + '_ {
    InMemory { data }
}
