//! The trust chain of one candidate, checked before and while its ISO downloads.
//!
//! A recipe that pins keys (`[watch] signature`, `keys`) gets its candidate's digest only
//! from text its upstream signed:
//! - a signature over the checksum list (Ubuntu's `SHA256SUMS.gpg`, Debian's `.sign`) or a
//!   clearsigned list (Fedora's `CHECKSUM`, where the signature URL is the list itself) is
//!   fetched and verified against the pinned keys *before* the ISO is requested, and the
//!   candidate's name must map to its digest in the signed text (the watcher's parse of the
//!   same list was only discovery);
//! - a signature over the ISO itself (Arch's and Manjaro's `.iso.sig`, whose URL is the ISO's
//!   plus a suffix) is parsed and its key checked before the download, and verified from the
//!   bytes as they stream in ([`SignatureTap`]); only a download resumed by another process,
//!   or an ISO already in the cache, is read once more for it.
//!
//! Any failure is a [`TrustError`] naming the signature's URL and the key; the build stops
//! there and nothing is published. Keys come from the configured key directories
//! ([`Keyring::load_dirs`]), pinned by full fingerprint.

use bytes::Bytes;
use repack_core::{Candidate, Sha256Digest};
use repack_fetch::{Fetcher, StreamTap};
use repack_verify::{
    Fingerprint, IsoSignatureCheck, Keyring, KeyringError, SignatureError, TrustError,
};
use repack_watch_common::urls::{SignatureOver, signature_over};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest detached signature fetched (real ones are a few hundred bytes).
pub const MAX_SIGNATURE_BYTES: u64 = 64 * 1024;
/// Largest signed checksum list fetched.
pub const MAX_SIGNED_LIST_BYTES: u64 = 4 * 1024 * 1024;

/// Occurs when a candidate's signature cannot be checked or does not hold.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustFailure {
    /// Occurs when the recipe pins keys but the feed gave no signature URL for the release.
    #[error("`{recipe}` requires a signature, but none is known for {iso}")]
    NoSignature { recipe: String, iso: String },
    /// Occurs when a pinned fingerprint is malformed.
    #[error("`{recipe}` pins `{key}`, which is not a full OpenPGP fingerprint: {reason}")]
    BadPin {
        recipe: String,
        key: String,
        reason: String,
    },
    /// Occurs when a pinned key cannot be loaded from the key directories.
    #[error("`{recipe}`: the pinned keys cannot be loaded")]
    Keys {
        recipe: String,
        #[source]
        source: KeyringError,
    },
    /// Occurs when the signature or the signed list cannot be downloaded.
    #[error("cannot fetch {url}")]
    Fetch {
        url: String,
        #[source]
        source: repack_fetch::FetchError,
    },
    /// Occurs when the signature over the checksum list does not hold (bad, unpinned key,
    /// expired, revoked, ...) or the signed list does not parse.
    #[error("the checksum list {list} is not vouched for by its signature {signature}")]
    List {
        list: String,
        signature: String,
        #[source]
        source: TrustError,
    },
    /// Occurs when the signed list does not give the candidate's name the digest the
    /// watcher found (the list changed since it was signed, or the watcher read another).
    #[error(
        "the signed list {list} does not vouch for {name} with sha256 {expected}{}",
        match found { Some(found) => format!(" (it says {found})"), None => " (it does not list it)".to_owned() }
    )]
    NotSigned {
        list: String,
        name: String,
        expected: Sha256Digest,
        found: Option<Sha256Digest>,
    },
    /// Occurs when the signature over the ISO does not hold.
    #[error("the ISO {iso} is not vouched for by its signature {signature}")]
    Iso {
        iso: String,
        signature: String,
        #[source]
        source: SignatureError,
    },
    /// Occurs when the ISO cannot be read again to check its signature.
    #[error("cannot read {path} to check its signature")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl TrustFailure {
    /// A stable identifier of the failure: the verify crate's kind where there is one.
    pub fn kind(&self) -> &'static str {
        match self {
            TrustFailure::NoSignature { .. } => "signature-missing",
            TrustFailure::BadPin { .. } => "signature-bad-pin",
            TrustFailure::Keys { source, .. } => source.kind(),
            TrustFailure::Fetch { source, .. } => source.kind(),
            TrustFailure::List { source, .. } => source.kind(),
            TrustFailure::NotSigned { .. } => "signature-list-mismatch",
            TrustFailure::Iso { source, .. } => source.kind(),
            TrustFailure::Read { .. } => "signature-read",
        }
    }
}

/// What the download must still prove about the ISO.
pub enum IsoProof {
    /// Nothing: the recipe pins no keys, or the signed list already vouched for the digest.
    None,
    /// A signature over the ISO, checked from the bytes as they stream in.
    Signature(Box<SignatureTap>),
}

/// Checks everything that can be checked before the ISO is requested. Returns what the
/// download must still prove.
pub async fn before_download(
    fetcher: &Fetcher,
    candidate: &Candidate,
    expected: Sha256Digest,
    key_dirs: &[PathBuf],
) -> Result<IsoProof, TrustFailure> {
    if candidate.signing_keys.is_empty() {
        return Ok(IsoProof::None);
    }
    let Some(signature_url) = candidate.signature_url.clone() else {
        return Err(TrustFailure::NoSignature {
            recipe: candidate.recipe.clone(),
            iso: candidate.iso_url.clone(),
        });
    };
    let pins = candidate
        .signing_keys
        .iter()
        .map(|key| {
            key.parse::<Fingerprint>()
                .map_err(|error| TrustFailure::BadPin {
                    recipe: candidate.recipe.clone(),
                    key: key.clone(),
                    reason: error.to_string(),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let keyring = {
        let (dirs, pins) = (key_dirs.to_vec(), pins.clone());
        tokio::task::spawn_blocking(move || Keyring::load_dirs(&dirs, &pins))
            .await
            .expect("loading keys does not panic")
            .map_err(|source| TrustFailure::Keys {
                recipe: candidate.recipe.clone(),
                source,
            })?
    };
    let fetch = |url: String, max: u64| async move {
        fetcher
            .fetch_bytes(&url, max)
            .await
            .map_err(|source| TrustFailure::Fetch { url, source })
    };

    let over = signature_over(&signature_url, candidate);
    if over == SignatureOver::Iso {
        // A detached signature over the ISO (`<iso>.sig`).
        let signature = fetch(signature_url.clone(), MAX_SIGNATURE_BYTES).await?;
        let tap = SignatureTap::new(signature, keyring, &signature_url, &candidate.iso_url)?;
        tracing::info!(recipe = %candidate.recipe, signature = %signature_url, "the ISO's signature will be checked as it downloads");
        return Ok(IsoProof::Signature(Box::new(tap)));
    }

    let Some(list_url) = candidate.checksum_url.clone() else {
        return Err(TrustFailure::NoSignature {
            recipe: candidate.recipe.clone(),
            iso: candidate.iso_url.clone(),
        });
    };
    let list = fetch(list_url.clone(), MAX_SIGNED_LIST_BYTES).await?;
    let verified = if over == SignatureOver::ClearsignedList {
        repack_verify::verify_clearsigned_list(&list, &keyring, &signature_url)
    } else {
        let signature = fetch(signature_url.clone(), MAX_SIGNATURE_BYTES).await?;
        repack_verify::verify_detached_list(&list, &signature, &keyring, &signature_url)
    }
    .map_err(|source| TrustFailure::List {
        list: list_url.clone(),
        signature: signature_url.clone(),
        source,
    })?;
    let found = verified
        .list
        .get(&candidate.iso_name)
        .map(|entry| entry.sha256);
    if found != Some(expected) {
        return Err(TrustFailure::NotSigned {
            list: list_url,
            name: candidate.iso_name.clone(),
            expected,
            found,
        });
    }
    tracing::info!(
        recipe = %candidate.recipe,
        list = %list_url,
        signature = %signature_url,
        key = %verified.signature.pinned,
        "checksum list signature verified"
    );
    Ok(IsoProof::None)
}

/// Verifies a signature over the ISO from the download's own bytes (a [`StreamTap`]). It
/// notices a restart (bytes from 0 again: the check starts over) and a resume by another
/// process (the first bytes it sees are not at 0): then [`SignatureTap::finish`] reads the
/// stored ISO once instead.
pub struct SignatureTap {
    signature: Vec<u8>,
    keyring: Keyring,
    label: String,
    iso_url: String,
    check: Option<IsoSignatureCheck>,
    /// Where the next byte must start for the check to stay whole.
    next: u64,
    whole: bool,
}

impl SignatureTap {
    fn new(
        signature: Vec<u8>,
        keyring: Keyring,
        label: &str,
        iso_url: &str,
    ) -> Result<SignatureTap, TrustFailure> {
        // Parsed now: an unpinned, expired or revoked key fails before the download.
        let check = IsoSignatureCheck::new(&signature, &keyring, label).map_err(|source| {
            TrustFailure::Iso {
                iso: iso_url.to_owned(),
                signature: label.to_owned(),
                source,
            }
        })?;
        Ok(SignatureTap {
            signature,
            keyring,
            label: label.to_owned(),
            iso_url: iso_url.to_owned(),
            check: Some(check),
            next: 0,
            whole: true,
        })
    }

    fn failure(&self, source: SignatureError) -> TrustFailure {
        TrustFailure::Iso {
            iso: self.iso_url.clone(),
            signature: self.label.clone(),
            source,
        }
    }

    /// True when every byte of the download, from the first, went through the check.
    pub fn saw_whole_download(&self) -> bool {
        self.whole && self.next > 0
    }

    /// The verdict once the ISO is complete at `iso_path` (blocking: may read the file).
    pub fn finish(mut self, iso_path: &Path, saw_download: bool) -> Result<(), TrustFailure> {
        let streamed = saw_download && self.whole && self.next > 0;
        let check = match self.check.take() {
            Some(check) if streamed => check,
            _ => {
                tracing::info!(path = %iso_path.display(), "checking the ISO's signature from the stored file");
                let mut check = IsoSignatureCheck::new(&self.signature, &self.keyring, &self.label)
                    .map_err(|source| self.failure(source))?;
                let mut file =
                    std::fs::File::open(iso_path).map_err(|source| TrustFailure::Read {
                        path: iso_path.to_owned(),
                        source,
                    })?;
                let mut buffer = vec![0u8; 1 << 20];
                loop {
                    let read = file
                        .read(&mut buffer)
                        .map_err(|source| TrustFailure::Read {
                            path: iso_path.to_owned(),
                            source,
                        })?;
                    if read == 0 {
                        break;
                    }
                    check.update(&buffer[..read]);
                }
                check
            }
        };
        let good = check.finish().map_err(|source| self.failure(source))?;
        tracing::info!(signature = %self.label, key = %good.pinned, "ISO signature verified");
        Ok(())
    }
}

impl StreamTap for SignatureTap {
    fn observe(&mut self, offset: u64, chunks: &[Bytes]) {
        if offset == 0 && self.next != 0 {
            // The transfer restarted from the first byte: so does the check.
            self.check = IsoSignatureCheck::new(&self.signature, &self.keyring, &self.label).ok();
            self.next = 0;
            self.whole = true;
        }
        if offset != self.next {
            // A resume by another process: the prefix was never seen here.
            self.whole = false;
        }
        if let Some(check) = self.check.as_mut().filter(|_| self.whole) {
            for chunk in chunks {
                check.update(chunk);
            }
        }
        self.next = offset + chunks.iter().map(|chunk| chunk.len() as u64).sum::<u64>();
    }
}
