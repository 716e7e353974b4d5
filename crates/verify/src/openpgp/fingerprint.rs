//! Full OpenPGP fingerprints: the only way a key is pinned. 40 hex digits for a v4 key,
//! 64 for a v6 key; key IDs (16 or 8 digits) are refused because they are not unique.

use std::fmt;
use std::str::FromStr;

/// Bytes in a v4 fingerprint (SHA-1 of the key packet).
const V4_LEN: usize = 20;
/// Bytes in a v6 fingerprint (SHA-256 of the key packet).
const V6_LEN: usize = 32;

/// The full fingerprint of an OpenPGP key. Displays as uppercase hex without spaces, the
/// way upstreams publish it (`843938DF228D22F7B3742BC0D94AA3F0EFE21092`).
/// Invariant: 20 bytes (v4) or 32 bytes (v6).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(Vec<u8>);

/// Occurs when a pinned fingerprint is not a full v4 or v6 fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a full OpenPGP fingerprint: {reason}")]
pub struct FingerprintError {
    pub input: String,
    pub reason: &'static str,
}

impl Fingerprint {
    /// The fingerprint's bytes (20 or 32).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// True for a 64-hex-digit (v6) fingerprint.
    pub fn is_v6(&self) -> bool {
        self.0.len() == V6_LEN
    }

    /// The key ID that signatures may name instead of the fingerprint: the last 8 bytes of a
    /// v4 fingerprint, the first 8 of a v6 one.
    pub fn key_id(&self) -> [u8; 8] {
        let bytes = if self.is_v6() {
            &self.0[..8]
        } else {
            &self.0[V4_LEN - 8..]
        };
        bytes.try_into().expect("8 bytes")
    }

    pub(crate) fn from_pgp(fingerprint: &pgp::types::Fingerprint) -> Option<Fingerprint> {
        let bytes = fingerprint.as_bytes();
        matches!(bytes.len(), V4_LEN | V6_LEN).then(|| Fingerprint(bytes.to_vec()))
    }
}

impl FromStr for Fingerprint {
    type Err = FingerprintError;

    /// Accepts hex digits in either case, optionally prefixed by `0x` and grouped with spaces
    /// (as `gpg --fingerprint` prints them).
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let error = |reason| FingerprintError {
            input: input.to_owned(),
            reason,
        };
        let trimmed = input.trim();
        let trimmed = trimmed
            .strip_prefix("0x")
            .or_else(|| trimmed.strip_prefix("0X"))
            .unwrap_or(trimmed);
        let hex: String = trimmed.chars().filter(|c| *c != ' ').collect();
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(error("it contains characters other than hex digits"));
        }
        match hex.len() {
            40 | 64 => {}
            8 | 16 => {
                return Err(error(
                    "this is a key ID, which many keys can share; pin the full 40- or 64-digit fingerprint",
                ));
            }
            _ => return Err(error("expected 40 (v4) or 64 (v6) hex digits")),
        }
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(&hex[at..at + 2], 16).expect("hex checked above"))
            .collect();
        Ok(Fingerprint(bytes))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in &self.0 {
            write!(f, "{byte:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// A key ID as signatures name issuers: 16 uppercase hex digits.
pub(crate) fn key_id_hex(key_id: &[u8]) -> String {
    key_id.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const UBUNTU: &str = "843938DF228D22F7B3742BC0D94AA3F0EFE21092";

    #[test]
    fn parses_and_displays_v4() {
        let fingerprint: Fingerprint = UBUNTU.parse().unwrap();
        assert_eq!(fingerprint.to_string(), UBUNTU);
        assert_eq!(key_id_hex(&fingerprint.key_id()), "D94AA3F0EFE21092");
        assert!(!fingerprint.is_v6());
    }

    #[test]
    fn accepts_gpg_spacing_lowercase_and_0x() {
        let spaced = "8439 38DF 228D 22F7 B374  2BC0 D94A A3F0 EFE2 1092";
        assert_eq!(spaced.parse::<Fingerprint>().unwrap().to_string(), UBUNTU);
        let lower = format!("0x{}", UBUNTU.to_lowercase());
        assert_eq!(lower.parse::<Fingerprint>().unwrap().to_string(), UBUNTU);
    }

    #[test]
    fn v6_key_id_is_the_first_eight_bytes() {
        let v6 = format!(
            "CB186C4F0609A697E4D52DFA6C722B0C1F1E27C1{}",
            "8A56708F6525EC27BAD9ACC9"
        );
        let fingerprint: Fingerprint = v6.parse().unwrap();
        assert!(fingerprint.is_v6());
        assert_eq!(key_id_hex(&fingerprint.key_id()), "CB186C4F0609A697");
    }

    #[test]
    fn key_ids_and_garbage_are_refused() {
        let key_id = "D94AA3F0EFE21092".parse::<Fingerprint>().unwrap_err();
        assert!(key_id.reason.contains("key ID"), "{key_id}");
        assert!("EFE21092".parse::<Fingerprint>().is_err());
        assert!(format!("{UBUNTU}00").parse::<Fingerprint>().is_err());
        assert!(UBUNTU.replace('8', "G").parse::<Fingerprint>().is_err());
        assert!("".parse::<Fingerprint>().is_err());
    }
}
