//! The trust chain: checksum lists of every upstream shape, and OpenPGP signatures checked
//! against keys pinned by full fingerprint. Pure and sync: no network, no async runtime, no
//! I/O except [`Keyring::load_dir`] reading key files.
//!
//! - [`lists`]: [`parse_checksum_list`] and [`parse_checksum_bytes`] turn a list (GNU, BSD,
//!   Fedora's `CHECKSUM` with its size comments, Arch's `sha256sums.txt`, Mint's
//!   `sha256sum.txt`, Ubuntu's and Debian's `SHA256SUMS`) into a [`ChecksumList`];
//!   [`parse_companion_checksum`] reads a one-file `X.iso.sha256` (Manjaro).
//! - [`openpgp`]: a [`Keyring`] of pinned keys verifies detached signatures
//!   ([`Keyring::verify_detached`]), clearsigned documents ([`Keyring::verify_clearsigned`])
//!   and, incrementally, detached signatures over an image as it downloads
//!   ([`IsoSignatureCheck`]).
//! - [`verify_detached_list`] and [`verify_clearsigned_list`] do both for a signed list:
//!   signature first, then the signed text only is parsed.
//!
//! This crate refuses to decide which entries matter (the watchers do), to fetch anything,
//! or to trust a key because of who certified it (there is no web of trust: pins only).
//!
//! # Trust rules
//!
//! A signature counts only when all of these hold; otherwise the check fails with a
//! [`SignatureError`] naming the signature and the key:
//!
//! 1. **Pinned key.** It was made by a key whose primary fingerprint (40 hex digits for v4,
//!    64 for v6) is pinned, or by a subkey of one. Key IDs are never pins. Keys come only
//!    from the key files given for the pins; other keys in those files are dropped.
//! 2. **Bound subkey.** A subkey counts only with a valid binding signature from the pinned
//!    primary whose key flags allow signing, carrying a valid back-signature made by the
//!    subkey itself. The newest valid binding decides flags and expiry.
//! 3. **Self-signed primary.** The primary needs a valid self-signature (user ID
//!    certification or direct-key signature); the newest one decides its flags and expiry.
//!    A primary without key flags may sign; one whose flags exclude signing may not.
//! 4. **Not revoked.** A valid revocation of the primary, or of the signing subkey, fails
//!    every signature, whatever its reason code or date. (Revocations by designated
//!    third-party revokers and user-ID revocations are not considered.)
//! 5. **Not expired, in validity.** The signature's creation time must fall between the
//!    signing key's (and the primary's) creation and expiry, and neither key may have
//!    expired at the time of the check (the clock, or [`Keyring::at`]). A signature with its
//!    own expiration time must not have expired.
//! 6. **Sound packet.** A v4 or v6 data signature (binary or text) with a hashed creation
//!    time and a hash other than MD5, SHA-1 or RIPEMD-160. Over an image only binary
//!    signatures are accepted.
//! 7. **Correct.** It verifies cryptographically over exactly the data: the bytes given, the
//!    signed text of a clearsigned document (with OpenPGP's line-end normalisation), or every
//!    byte fed to [`IsoSignatureCheck`].
//!
//! Several signature packets may come together (Debian's `InRelease` has two or three). The
//! input passes when at least one packet passes and no packet by a pinned key fails
//! cryptographically; packets by keys that are not pinned are ignored. Inputs are capped in
//! size before parsing ([`MAX_LIST_BYTES`], [`MAX_SIGNATURE_BYTES`],
//! [`MAX_CLEARSIGNED_BYTES`], [`MAX_KEY_FILE_BYTES`]).

pub mod fuzzing;
pub mod lists;
pub mod openpgp;
mod signed;

pub use lists::{
    ChecksumEntry, ChecksumList, Limits, LineForm, MAX_COMPANION_BYTES, MAX_LIST_BYTES,
    OtherAlgorithm, OtherDigest, VerifyError, parse_checksum_bytes, parse_checksum_list,
    parse_checksum_list_with, parse_companion_checksum,
};
pub use openpgp::{
    Clearsigned, Fingerprint, FingerprintError, GoodSignature, IsoSignatureCheck, Keyring,
    KeyringError, MAX_CLEARSIGNED_BYTES, MAX_KEY_FILE_BYTES, MAX_SIGNATURE_BYTES, MAX_SIGNATURES,
    SignatureError,
};
pub use signed::{TrustError, VerifiedList, verify_clearsigned_list, verify_detached_list};
