//! A release found upstream that may need building.

use crate::{Arch, Sha256Digest};
use serde::{Deserialize, Serialize};

/// One upstream ISO a watcher found: what it is, where it is and what its bytes must hash to.
/// Invariant: `iso_url` is an absolute http(s) URL whose last path segment is `iso_name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub recipe: String,
    pub version: String,
    pub arch: Arch,
    pub iso_url: String,
    pub iso_name: String,
    /// From the upstream checksum list; the download must match it.
    pub sha256: Sha256Digest,
}
