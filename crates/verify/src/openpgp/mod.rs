//! OpenPGP verification against keys pinned by full fingerprint, with rPGP.
//!
//! A [`Keyring`] holds the pinned primary keys, read from key files; everything else in the
//! files is dropped. It verifies detached signatures ([`Keyring::verify_detached`], binary or
//! armoured), clearsigned documents ([`Keyring::verify_clearsigned`], handing out only the
//! signed text) and, through [`IsoSignatureCheck`], detached signatures over an image that
//! streams in. One set of rules decides every case (see the crate documentation); a failure
//! is a [`SignatureError`] naming the signature and the key.

mod cleartext;
mod detached;
mod error;
mod fingerprint;
mod keyring;
mod packets;
mod stream;
mod validity;
mod verdict;

pub use cleartext::{Clearsigned, MAX_CLEARSIGNED_BYTES};
pub use error::{KeyringError, SignatureError};
pub use fingerprint::{Fingerprint, FingerprintError};
pub use keyring::Keyring;
pub use packets::{MAX_KEY_FILE_BYTES, MAX_SIGNATURE_BYTES, MAX_SIGNATURES};
pub use stream::IsoSignatureCheck;
pub use verdict::GoodSignature;
