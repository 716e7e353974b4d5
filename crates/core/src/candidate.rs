//! A release found upstream that may need building, and how far its bytes can be trusted.

use crate::{Arch, Sha256Digest};
use serde::{Deserialize, Serialize};

/// One upstream ISO a watcher found: what it is, where it is and what its bytes must hash to.
/// Invariant: `iso_url` is an absolute http(s) URL whose last path segment is `iso_name`
/// (percent-encoded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub recipe: String,
    pub version: String,
    /// The recipe's architecture: the one this candidate would be built for.
    pub arch: Arch,
    /// The architecture as the feed spelled it (`amd64`, `aarch64`, ...), when the feed names
    /// one. `repack-watch` drops candidates whose spelling does not name [`Candidate::arch`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_arch: Option<String>,
    pub iso_url: String,
    pub iso_name: String,
    /// What the downloaded bytes must hash to, or an explicit statement that nothing does.
    pub checksum: Checksum,
    /// The checksum list the digest was read from (`SHA256SUMS`, `<iso>.sha256`, ...); `None`
    /// when the feed itself carried the digest (JSON, YAML, GitHub asset digest) or there is
    /// none. The OpenPGP verification checks this list against [`Candidate::signature_url`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_url: Option<String>,
    /// Where the upstream's OpenPGP signature is (detached over the checksum list or the
    /// ISO, or the checksum list itself when it is clearsigned), from the recipe's
    /// `signature` setting. Not verified by the watcher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_url: Option<String>,
    /// Fingerprints (uppercase hex) of the keys the recipe pins for that signature.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signing_keys: Vec<String>,
    /// Size in bytes, when the feed says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// When the upstream published the release, when the feed says: RFC 3339 in UTC
    /// (`2026-12-01T00:00:00Z`; a feed that gives only a date gives midnight).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<String>,
    /// The feed itself marks this as a pre-release (GitHub's `prerelease`, ...). Version
    /// strings that look like pre-releases are recognised by `repack-watch` as well.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub prerelease: bool,
}

/// What a candidate's bytes must hash to.
///
/// `Unverified` exists only for upstreams that publish no checksum at all, and only when the
/// recipe says so explicitly (`checksum = "none"`); such a candidate can be watched but not
/// built, because a build is identified by the ISO's digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Checksum {
    /// From the upstream's checksum list or feed; the download must match it.
    Sha256(Sha256Digest),
    /// The upstream publishes no checksum and the recipe accepted that.
    Unverified,
}

impl Checksum {
    /// The SHA-256 digest, unless the candidate is unverified.
    pub fn sha256(&self) -> Option<Sha256Digest> {
        match self {
            Checksum::Sha256(digest) => Some(*digest),
            Checksum::Unverified => None,
        }
    }
}

impl Candidate {
    /// A candidate with the required facts; the optional ones start empty.
    pub fn new(
        recipe: impl Into<String>,
        version: impl Into<String>,
        arch: Arch,
        iso_url: impl Into<String>,
        iso_name: impl Into<String>,
        checksum: Checksum,
    ) -> Candidate {
        Candidate {
            recipe: recipe.into(),
            version: version.into(),
            arch,
            upstream_arch: None,
            iso_url: iso_url.into(),
            iso_name: iso_name.into(),
            checksum,
            checksum_url: None,
            signature_url: None,
            signing_keys: Vec::new(),
            size: None,
            published_at: None,
            prerelease: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_serialises_with_its_trust_spelled_out() {
        let digest = Sha256Digest::of(b"iso");
        let verified = serde_json::to_string(&Checksum::Sha256(digest)).unwrap();
        assert_eq!(verified, format!(r#"{{"sha256":"{digest}"}}"#));
        assert_eq!(
            serde_json::to_string(&Checksum::Unverified).unwrap(),
            r#""unverified""#
        );
        assert_eq!(Checksum::Unverified.sha256(), None);
        assert_eq!(Checksum::Sha256(digest).sha256(), Some(digest));
    }

    #[test]
    fn optional_facts_are_left_out_when_unknown_and_read_back() {
        let candidate = Candidate::new(
            "debian-live",
            "13.1.0",
            Arch::X86_64,
            "https://cd.example/a.iso",
            "a.iso",
            Checksum::Unverified,
        );
        let text = serde_json::to_string(&candidate).unwrap();
        assert!(
            !text.contains("size") && !text.contains("prerelease"),
            "{text}"
        );
        let back: Candidate = serde_json::from_str(&text).unwrap();
        assert_eq!(back, candidate);
    }
}
