//! The keyring: the pinned primary keys, taken from key files and nothing else. Keys in the
//! files that are not pinned are dropped; a pinned fingerprint missing from the files is an
//! error. Cheap to clone (shared), `Send + Sync`.

use super::packets::parse_key_file;
use super::validity::{CertState, KeyState};
use super::{Fingerprint, KeyringError};
use pgp::composed::SignedPublicKey;
use pgp::packet::Signature;
use pgp::types::KeyDetails;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

/// Key files a directory may hold for a pin: `[<anything>-]<FINGERPRINT>.<ext>`.
const KEY_FILE_EXTENSIONS: [&str; 3] = ["asc", "gpg", "pgp"];

/// Keys pinned by full fingerprint, against which every signature is checked.
///
/// Built with [`Keyring::from_key_files`] (pure) or [`Keyring::load_dir`] (reads
/// `keys/<distro>-<purpose>-<FINGERPRINT>.asc`). Checks happen at the current time unless
/// [`Keyring::at`] fixes another.
#[derive(Clone)]
pub struct Keyring {
    certs: Arc<[PinnedCert]>,
    reference_time: Option<SystemTime>,
}

/// One pinned certificate. Invariant: `fingerprint` is the primary key's.
pub(crate) struct PinnedCert {
    pub fingerprint: Fingerprint,
    pub key: SignedPublicKey,
    pub state: CertState,
    /// The file it came from, for messages.
    pub source: String,
}

/// One key of the keyring that may have made a signature.
#[derive(Clone, Copy)]
pub(crate) struct Candidate<'a> {
    pub cert: &'a PinnedCert,
    /// `None`: the primary key; `Some(i)`: `cert.key.public_subkeys[i]`.
    pub subkey: Option<usize>,
}

impl Candidate<'_> {
    pub(crate) fn fingerprint(&self) -> Fingerprint {
        match self.subkey {
            None => self.cert.fingerprint.clone(),
            Some(index) => {
                Fingerprint::from_pgp(&self.cert.key.public_subkeys[index].key.fingerprint())
                    .unwrap_or_else(|| self.cert.fingerprint.clone())
            }
        }
    }

    pub(crate) fn state(&self) -> &KeyState {
        match self.subkey {
            None => &self.cert.state.primary,
            Some(index) => &self.cert.state.subkeys[index],
        }
    }
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field(
                "pinned",
                &self
                    .certs
                    .iter()
                    .map(|cert| (cert.fingerprint.to_string(), cert.source.as_str()))
                    .collect::<Vec<_>>(),
            )
            .field("reference_time", &self.reference_time)
            .finish()
    }
}

impl Keyring {
    /// Builds the keyring for `pins` from key files given as `(name, bytes)`; the name is
    /// only for messages. Each file may be armoured or binary and hold several keys; keys
    /// that are not pinned are dropped. Every pin must be found as a primary key.
    pub fn from_key_files<'a, I>(pins: &[Fingerprint], files: I) -> Result<Keyring, KeyringError>
    where
        I: IntoIterator<Item = (&'a str, &'a [u8])>,
    {
        if pins.is_empty() {
            return Err(KeyringError::NoPins);
        }
        let mut names = Vec::new();
        let mut found: Vec<(SignedPublicKey, String)> = Vec::new();
        let mut skipped = Vec::new();
        for (name, bytes) in files {
            let (keys, file_skipped) = parse_key_file(bytes, name)?;
            names.push(name.to_owned());
            skipped.extend(file_skipped.into_iter().map(|why| format!("{name}: {why}")));
            found.extend(keys.into_iter().map(|key| (key, name.to_owned())));
        }
        let mut certs = Vec::with_capacity(pins.len());
        for pin in pins {
            if certs
                .iter()
                .any(|cert: &PinnedCert| &cert.fingerprint == pin)
            {
                continue;
            }
            let primary = found.iter().find(|(key, _)| {
                Fingerprint::from_pgp(&key.primary_key.fingerprint()).as_ref() == Some(pin)
            });
            let Some((key, source)) = primary else {
                return Err(missing(pin, &found, names, skipped));
            };
            certs.push(PinnedCert {
                fingerprint: pin.clone(),
                state: CertState::of(key),
                key: key.clone(),
                source: source.clone(),
            });
        }
        Ok(Keyring {
            certs: certs.into(),
            reference_time: None,
        })
    }

    /// Builds the keyring for `pins` from `dir`, reading for each pin the file named
    /// `<anything>-<FINGERPRINT>.asc` or `<FINGERPRINT>.asc` (or `.gpg`, `.pgp`; the
    /// fingerprint in any case), as the repository's `keys/` directory names them.
    /// A directory that cannot be read is an error here (it was named explicitly).
    pub fn load_dir(dir: &Path, pins: &[Fingerprint]) -> Result<Keyring, KeyringError> {
        std::fs::read_dir(dir).map_err(|source| KeyringError::Io {
            path: dir.to_owned(),
            source,
        })?;
        Keyring::load_dirs(&[dir.to_owned()], pins)
    }

    /// [`Keyring::load_dir`] over several directories: each pin is read from the first
    /// directory that has a file named for it. Directories that do not exist are skipped
    /// (an installation may lack `/etc/repack/keys`); a pin found in none is an error that
    /// lists every directory searched.
    pub fn load_dirs(
        dirs: &[std::path::PathBuf],
        pins: &[Fingerprint],
    ) -> Result<Keyring, KeyringError> {
        let mut listings: Vec<(&Path, Vec<String>)> = Vec::new();
        for dir in dirs {
            let io = |source| KeyringError::Io {
                path: dir.to_owned(),
                source,
            };
            let entries = match std::fs::read_dir(dir) {
                Ok(entries) => entries,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                Err(error) => return Err(io(error)),
            };
            let mut names = Vec::new();
            for entry in entries {
                let entry = entry.map_err(io)?;
                if let Some(name) = entry.file_name().to_str() {
                    names.push(name.to_owned());
                }
            }
            names.sort();
            listings.push((dir, names));
        }
        let mut files = Vec::new();
        for pin in pins {
            let found = listings.iter().find_map(|(dir, names)| {
                names
                    .iter()
                    .find(|name| names_pin(name, pin))
                    .map(|name| (dir.join(name), name.clone()))
            });
            let Some((path, name)) = found else {
                return Err(KeyringError::MissingKeyFile {
                    fingerprint: pin.clone(),
                    dirs: dirs.to_vec(),
                });
            };
            let bytes = std::fs::read(&path).map_err(|source| KeyringError::Io { path, source })?;
            files.push((name, bytes));
        }
        Keyring::from_key_files(
            pins,
            files
                .iter()
                .map(|(name, bytes)| (name.as_str(), bytes.as_slice())),
        )
    }

    /// The same keyring, checking validity at `time` instead of the clock: for replaying an
    /// old signature, and for tests.
    pub fn at(mut self, time: SystemTime) -> Keyring {
        self.reference_time = Some(time);
        self
    }

    /// The pinned fingerprints, in pin order.
    pub fn pinned(&self) -> Vec<Fingerprint> {
        self.certs
            .iter()
            .map(|cert| cert.fingerprint.clone())
            .collect()
    }

    /// The time validity is checked at.
    pub(crate) fn now(&self) -> SystemTime {
        self.reference_time.unwrap_or_else(SystemTime::now)
    }

    /// Every pinned key (primary or subkey) that `sig` names as its issuer; when it names
    /// none, every key.
    pub(crate) fn candidates(&self, sig: &Signature) -> Vec<Candidate<'_>> {
        let mut found = Vec::new();
        for cert in self.certs.iter() {
            if super::validity::names_issuer(sig, &cert.key.primary_key) {
                found.push(Candidate { cert, subkey: None });
            }
            for (index, subkey) in cert.key.public_subkeys.iter().enumerate() {
                if super::validity::names_issuer(sig, &subkey.key) {
                    found.push(Candidate {
                        cert,
                        subkey: Some(index),
                    });
                }
            }
        }
        found
    }
}

/// Why a pin was not found: it may be a subkey's fingerprint, or simply absent.
fn missing(
    pin: &Fingerprint,
    found: &[(SignedPublicKey, String)],
    files: Vec<String>,
    skipped: Vec<String>,
) -> KeyringError {
    for (key, _) in found {
        let is_subkey = key
            .public_subkeys
            .iter()
            .any(|subkey| Fingerprint::from_pgp(&subkey.key.fingerprint()).as_ref() == Some(pin));
        if is_subkey && let Some(primary) = Fingerprint::from_pgp(&key.primary_key.fingerprint()) {
            return KeyringError::PinIsSubkey {
                fingerprint: pin.clone(),
                primary,
            };
        }
    }
    KeyringError::KeyNotFound {
        fingerprint: pin.clone(),
        files,
        found: found
            .iter()
            .filter_map(|(key, _)| Fingerprint::from_pgp(&key.primary_key.fingerprint()))
            .collect(),
        skipped,
    }
}

/// True for `[<anything>-]<FINGERPRINT>.<asc|gpg|pgp>`, fingerprint in any case.
fn names_pin(file_name: &str, pin: &Fingerprint) -> bool {
    let Some((stem, extension)) = file_name.rsplit_once('.') else {
        return false;
    };
    if !KEY_FILE_EXTENSIONS.contains(&extension) {
        return false;
    }
    let fingerprint = stem.rsplit_once('-').map_or(stem, |(_, last)| last);
    fingerprint.eq_ignore_ascii_case(&pin.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_names_match_pins_case_insensitively() {
        let pin: Fingerprint = "843938DF228D22F7B3742BC0D94AA3F0EFE21092".parse().unwrap();
        assert!(names_pin(
            "ubuntu-cdimage-843938DF228D22F7B3742BC0D94AA3F0EFE21092.asc",
            &pin
        ));
        assert!(names_pin(
            "x-843938df228d22f7b3742bc0d94aa3f0efe21092.gpg",
            &pin
        ));
        assert!(!names_pin(
            "ubuntu-843938DF228D22F7B3742BC0D94AA3F0EFE21092.txt",
            &pin
        ));
        assert!(names_pin(
            "843938DF228D22F7B3742BC0D94AA3F0EFE21092.asc",
            &pin
        ));
        assert!(!names_pin("ubuntu-843938DF.asc", &pin));
        assert!(!names_pin(
            "ubuntu-843938DF228D22F7B3742BC0D94AA3F0EFE21093.asc",
            &pin
        ));
    }
}
