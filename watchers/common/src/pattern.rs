//! The recipe's regular expressions over file and directory names.
//!
//! A pattern is matched against one *name* (a file name from a checksum list or listing, a
//! directory name, an asset name, a tag), never against a whole URL. Its named groups carry
//! the facts: `version` (required by [`VersionPattern`]) and optionally `arch`, the
//! upstream's spelling of the architecture (`amd64`, `aarch64`), which `repack-watch` maps to
//! the recipe's. Both are checked while the recipe's `[watch]` table is parsed, so a broken
//! pattern fails at load time, before any request.

use regex::Regex;
use serde::{Deserialize, Deserializer};
use std::fmt;

/// Largest compiled pattern accepted (the `regex` crate's own limit is 10 MiB); recipes are
/// operator input, but a typo like `{1000000}` should fail clearly instead of eating memory.
const MAX_PATTERN_BYTES: usize = 1024 * 1024;

/// What a pattern captured from one name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    /// The `version` group, when the pattern has one and it matched something.
    pub version: Option<String>,
    /// The `arch` group, when the pattern has one and it matched something.
    pub arch: Option<String>,
}

/// A regular expression whose `version` and `arch` groups are optional.
#[derive(Clone)]
pub struct NamePattern {
    regex: Regex,
}

/// A regular expression with a `version` group: every match yields a version.
#[derive(Clone)]
pub struct VersionPattern(NamePattern);

impl NamePattern {
    /// Compiles `text`; the error says what is wrong.
    pub fn new(text: &str) -> Result<NamePattern, String> {
        let regex = regex::RegexBuilder::new(text)
            .size_limit(MAX_PATTERN_BYTES)
            .build()
            .map_err(|error| format!("`{text}` is not a regular expression: {error}"))?;
        Ok(NamePattern { regex })
    }

    pub fn as_str(&self) -> &str {
        self.regex.as_str()
    }

    /// Whether the pattern has a group named `name`.
    pub fn has_group(&self, name: &str) -> bool {
        self.regex.capture_names().flatten().any(|n| n == name)
    }

    /// The groups captured from `name`, or `None` when it does not match. Empty groups count
    /// as absent.
    pub fn captures(&self, name: &str) -> Option<Captured> {
        let captures = self.regex.captures(name)?;
        let group = |group: &str| {
            captures
                .name(group)
                .map(|m| m.as_str())
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        };
        Some(Captured {
            version: group("version"),
            arch: group("arch"),
        })
    }

    pub fn is_match(&self, name: &str) -> bool {
        self.regex.is_match(name)
    }
}

impl VersionPattern {
    /// Compiles `text` and requires a `version` group.
    pub fn new(text: &str) -> Result<VersionPattern, String> {
        let pattern = NamePattern::new(text)?;
        if !pattern.has_group("version") {
            return Err(format!("`{text}` needs a `(?P<version>...)` group"));
        }
        Ok(VersionPattern(pattern))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The version (and arch) captured from `name`, or `None` when it does not match or the
    /// version group is empty.
    pub fn captures(&self, name: &str) -> Option<(String, Option<String>)> {
        let captured = self.0.captures(name)?;
        Some((captured.version?, captured.arch))
    }
}

impl fmt::Debug for NamePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NamePattern({:?})", self.as_str())
    }
}

impl fmt::Debug for VersionPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VersionPattern({:?})", self.as_str())
    }
}

impl<'de> Deserialize<'de> for NamePattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        NamePattern::new(&text).map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for VersionPattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        VersionPattern::new(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_and_arch_groups_are_captured() {
        let pattern = VersionPattern::new(
            r"^ubuntu-(?P<version>[0-9.]+)-desktop-(?P<arch>amd64|arm64)\.iso$",
        )
        .unwrap();
        assert_eq!(
            pattern.captures("ubuntu-24.04.1-desktop-arm64.iso"),
            Some(("24.04.1".to_owned(), Some("arm64".to_owned())))
        );
        assert_eq!(
            pattern.captures("ubuntu-24.04.1-live-server-amd64.iso"),
            None
        );
    }

    #[test]
    fn a_version_pattern_needs_its_group_and_a_valid_syntax() {
        assert!(
            VersionPattern::new(r"^a\.iso$")
                .unwrap_err()
                .contains("version")
        );
        assert!(VersionPattern::new(r"(?P<version>").is_err());
        assert!(NamePattern::new(r"^a\.iso$").is_ok());
    }

    #[test]
    fn an_empty_version_is_no_match() {
        let pattern = VersionPattern::new(r"^a-(?P<version>[0-9]*)\.iso$").unwrap();
        assert_eq!(pattern.captures("a-.iso"), None);
    }
}
