//! Parts earlier releases already published, by content: a build whose root-image part is
//! byte-identical to one of them (same size and sha256, e.g. when only the recipe's kernel
//! arguments changed) stores none of those bytes again. Its manifest, and the rootfs list
//! baked into its initrd, point at the published part by its full URL instead.
//!
//! The pipeline fills a [`PublishedParts`] from the catalogue's earlier builds of the recipe,
//! keeping only parts the publisher confirms it still holds; the assembly consults it once
//! the root images are laid out and checked.

use repack_core::{ManifestPart, Sha256Digest};
use std::collections::BTreeMap;

/// Published parts by (sha256, size), each with the full URL a boot hook fetches it from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishedParts {
    by_content: BTreeMap<(Sha256Digest, u64), String>,
}

impl PublishedParts {
    pub fn new() -> Self {
        PublishedParts::default()
    }

    /// Records that the part with `sha256` and `size` is published at `url`; the first URL
    /// recorded for some content stays.
    pub fn insert(&mut self, sha256: Sha256Digest, size: u64, url: String) {
        self.by_content.entry((sha256, size)).or_insert(url);
    }

    /// The URL of a published part with `part`'s content, if there is one.
    pub fn url_for(&self, part: &ManifestPart) -> Option<&str> {
        self.by_content
            .get(&(part.sha256, part.size))
            .map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.by_content.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_content.is_empty()
    }
}
