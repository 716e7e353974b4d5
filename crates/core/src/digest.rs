//! A SHA-256 digest that can only hold 32 bytes, parsed from and printed as lowercase hex.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A SHA-256 digest. Invariant: exactly 32 bytes; its text form is 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256Digest([u8; 32]);

/// Occurs when a text is not 64 hex digits.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{text}` is not a SHA-256 digest (expected 64 hex digits)")]
pub struct DigestParseError {
    /// The offending text, cut to 80 characters.
    pub text: String,
}

impl Sha256Digest {
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Sha256Digest(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Digest of `data` in one call (for small inputs; stream large ones through `sha2`).
    pub fn of(data: &[u8]) -> Self {
        use sha2::Digest as _;
        Sha256Digest(sha2::Sha256::digest(data).into())
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl FromStr for Sha256Digest {
    type Err = DigestParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || DigestParseError {
            text: text.chars().take(80).collect(),
        };
        if text.len() != 64 {
            return Err(error());
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text.to_ascii_lowercase(), &mut bytes).map_err(|_| error())?;
        Ok(Sha256Digest(bytes))
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.to_hex())
    }
}

impl Serialize for Sha256Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Sha256Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_accepts_uppercase() {
        let text = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
        let digest: Sha256Digest = text.parse().unwrap();
        assert_eq!(digest, Sha256Digest::of(b""));
        assert_eq!(digest.to_string(), text.to_ascii_lowercase());
    }

    #[test]
    fn rejects_wrong_length_and_non_hex() {
        assert!("abc".parse::<Sha256Digest>().is_err());
        let not_hex = "g".repeat(64);
        assert!(not_hex.parse::<Sha256Digest>().is_err());
    }
}
