//! What the recipe wants from a feed, applied the same way to every kind: include/exclude
//! filters on file names, pre-releases, architecture names, version order, and the
//! no-backwards rule.
//!
//! Versions are ordered with [`repack_core::Version`] after one normalisation: a
//! pre-release marker written with `-`, `.`, `_` or a space (`26.04-rc1`, `26.04 Beta`) is
//! rewritten to Debian's `~` form (`26.04~rc1`), so every pre-release sorts before its
//! release however the upstream spells it. Dotted numbers compare numerically
//! (`24.04.10` > `24.04.9`), dates as numbers (`2026.12.01`), Fedora's `42-1.1` by parts.

use crate::WatchError;
use repack_core::{Arch, Candidate, Recipe, Version};
use repack_watch_common::{NamePattern, urls};
use serde::Deserialize;

/// Words that make a version a pre-release, matched against its runs of letters
/// (case-insensitive): `24.04~beta`, `26.04-rc1`, `43 Beta`, `daily`, `alpha2`.
pub const PRERELEASE_WORDS: [&str; 12] = [
    "alpha", "beta", "rc", "pre", "preview", "daily", "dev", "nightly", "snapshot", "test",
    "testing", "unstable",
];

/// The options every kind shares (the `[watch]` keys in [`crate::SHARED_KEYS`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, try_from = "RawPolicy")]
pub struct Policy {
    /// Only file names matching this are considered.
    pub include: Option<NamePattern>,
    /// File names matching this are dropped.
    pub exclude: Option<NamePattern>,
    /// Pre-releases (see [`is_prerelease`]) are candidates too.
    pub prerelease: bool,
    /// The upstream's names of the recipe's architecture, replacing the defaults of
    /// [`default_arch_names`] (compared case-insensitively).
    pub arch_names: Option<Vec<String>>,
    /// Where the upstream's OpenPGP signature is: a template relative to the checksum list
    /// (or the ISO when the feed carried the digest) with `{name}`, `{version}`, `{list}`;
    /// `{list}` alone for a clearsigned list. Carried into the candidate, not verified here.
    pub signature: Option<String>,
    /// Fingerprints of the keys the signature must come from (uppercase hex, 40 or 64
    /// digits).
    pub keys: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    include: Option<NamePattern>,
    exclude: Option<NamePattern>,
    #[serde(default)]
    prerelease: bool,
    arch_names: Option<Vec<String>>,
    signature: Option<String>,
    #[serde(default)]
    keys: Vec<String>,
}

impl TryFrom<RawPolicy> for Policy {
    type Error = String;

    fn try_from(raw: RawPolicy) -> Result<Self, String> {
        if let Some(names) = &raw.arch_names
            && (names.is_empty() || names.iter().any(|name| name.trim().is_empty()))
        {
            return Err("`arch_names` must list at least one non-empty name".to_owned());
        }
        let mut keys = Vec::with_capacity(raw.keys.len());
        for key in &raw.keys {
            let compact: String = key.chars().filter(|c| !c.is_whitespace()).collect();
            if !matches!(compact.len(), 40 | 64) || !compact.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Err(format!(
                    "`keys`: `{key}` is not an OpenPGP fingerprint (40 or 64 hex digits)"
                ));
            }
            keys.push(compact.to_ascii_uppercase());
        }
        match (&raw.signature, keys.is_empty()) {
            (Some(_), true) => {
                return Err(
                    "`signature` needs `keys`: the fingerprints it must be made with".to_owned(),
                );
            }
            (None, false) => {
                return Err("`keys` without `signature`: say where the signature is".to_owned());
            }
            _ => {}
        }
        if let Some(template) = &raw.signature {
            urls::check_template(template).map_err(|e| format!("`signature`: {e}"))?;
        }
        Ok(Policy {
            include: raw.include,
            exclude: raw.exclude,
            prerelease: raw.prerelease,
            arch_names: raw.arch_names,
            signature: raw.signature,
            keys,
        })
    }
}

/// How the policy sorted a feed's candidates.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// The candidates the recipe wants, in feed order.
    pub kept: Vec<Candidate>,
    pub listed: usize,
    pub excluded: usize,
    pub prerelease: usize,
    pub other_arch: usize,
}

impl Policy {
    /// Splits `found` into what the recipe wants and counts of what it dropped.
    pub fn select(&self, recipe: &Recipe, found: Vec<Candidate>) -> Selection {
        let mut selection = Selection {
            listed: found.len(),
            ..Selection::default()
        };
        for candidate in found {
            let name = candidate.iso_name.as_str();
            if self.include.as_ref().is_some_and(|p| !p.is_match(name))
                || self.exclude.as_ref().is_some_and(|p| p.is_match(name))
            {
                selection.excluded += 1;
            } else if !self.prerelease
                && (candidate.prerelease || is_prerelease(&candidate.version))
            {
                selection.prerelease += 1;
            } else if !self.arch_matches(recipe.arch, candidate.upstream_arch.as_deref()) {
                selection.other_arch += 1;
            } else {
                selection.kept.push(candidate);
            }
        }
        selection
    }

    /// Whether the upstream's architecture name (none: the feed does not say) names `arch`.
    pub fn arch_matches(&self, arch: Arch, upstream: Option<&str>) -> bool {
        let Some(upstream) = upstream else {
            return true;
        };
        match &self.arch_names {
            Some(names) => names.iter().any(|name| name.eq_ignore_ascii_case(upstream)),
            None => default_arch_names(arch)
                .iter()
                .any(|name| name.eq_ignore_ascii_case(upstream)),
        }
    }

    /// Fills in where the signature is and which keys must have made it.
    pub fn sign(&self, candidate: &mut Candidate) {
        let Some(template) = &self.signature else {
            return;
        };
        candidate.signature_url = urls::signature_url(template, candidate).map(String::from);
        if candidate.signature_url.is_none() {
            tracing::warn!(recipe = %candidate.recipe, template, "the signature template gives no URL for this release");
        }
        candidate.signing_keys = self.keys.clone();
    }
}

/// The upstream spellings of each architecture recognised without `arch_names`.
pub fn default_arch_names(arch: Arch) -> &'static [&'static str] {
    match arch {
        Arch::X86_64 => &["x86_64", "amd64", "x64", "x86-64"],
        Arch::Arm64 => &["arm64", "aarch64"],
    }
}

/// Whether a version string names a pre-release: a `~`, or a run of letters that is one of
/// [`PRERELEASE_WORDS`].
pub fn is_prerelease(version: &str) -> bool {
    version.contains('~') || prerelease_word_at(version).is_some()
}

/// Byte offset of the first run of letters that is a pre-release word.
fn prerelease_word_at(version: &str) -> Option<usize> {
    let bytes = version.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        if !bytes[start].is_ascii_alphabetic() {
            start += 1;
            continue;
        }
        let mut end = start;
        while end < bytes.len() && bytes[end].is_ascii_alphabetic() {
            end += 1;
        }
        let word = &version[start..end];
        if PRERELEASE_WORDS
            .iter()
            .any(|known| known.eq_ignore_ascii_case(word))
        {
            return Some(start);
        }
        start = end;
    }
    None
}

/// The version as it is ordered: a pre-release word's separator becomes `~`.
pub fn order_key(version: &str) -> Version {
    let Some(at) = prerelease_word_at(version) else {
        return Version::new(version);
    };
    let before = version[..at].trim_end_matches(['-', '.', '_', ' ', '+']);
    if before.ends_with('~') {
        return Version::new(version);
    }
    Version::new(format!("{before}~{}", &version[at..]))
}

/// Picks the candidate with the highest version. No candidate is
/// [`WatchError::NoMatchingRelease`]; different files sharing the highest version are
/// [`WatchError::AmbiguousRelease`] (the same file listed twice is fine).
pub fn pick_newest(
    recipe: &Recipe,
    url: &str,
    selection: Selection,
) -> Result<Candidate, WatchError> {
    let candidates = selection.kept;
    let Some(best) = candidates
        .iter()
        .max_by(|a, b| order_key(&a.version).cmp(&order_key(&b.version)))
    else {
        return Err(WatchError::NoMatchingRelease {
            recipe: recipe.id.clone(),
            url: url.to_owned(),
            listed: selection.listed,
            excluded: selection.excluded,
            prerelease: selection.prerelease,
            other_arch: selection.other_arch,
        });
    };
    let top = order_key(&best.version);
    let mut tied: Vec<&Candidate> = Vec::new();
    for candidate in candidates.iter().filter(|c| order_key(&c.version) == top) {
        // One release reached under several URLs is not a tie: the same file, or the same
        // name with the same verified digest (releases.ubuntu.com lists one ISO under its
        // codename directory and every version symlink to it).
        let same_release = |t: &&Candidate| {
            t.checksum == candidate.checksum
                && (t.iso_url == candidate.iso_url
                    || (t.iso_name == candidate.iso_name && candidate.checksum.sha256().is_some()))
        };
        if !tied.iter().any(same_release) {
            tied.push(candidate);
        }
    }
    if tied.len() > 1 {
        return Err(WatchError::AmbiguousRelease {
            recipe: recipe.id.clone(),
            url: url.to_owned(),
            version: best.version.clone(),
            names: tied.iter().map(|c| c.iso_name.clone()).collect(),
        });
    }
    Ok(best.clone())
}

/// How the newest upstream release relates to the published one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Nothing published yet, or upstream is newer: build it.
    New,
    /// The same version (a re-spin with other bytes is told apart by the build key).
    Current,
    /// Upstream is older than what is published: never build.
    Backwards,
}

/// Compares the newest upstream version with the published one (if any).
pub fn freshness(newest: &str, published: Option<&str>) -> Freshness {
    let Some(published) = published else {
        return Freshness::New;
    };
    match order_key(newest).cmp(&order_key(published)) {
        std::cmp::Ordering::Greater => Freshness::New,
        std::cmp::Ordering::Equal => Freshness::Current,
        std::cmp::Ordering::Less => Freshness::Backwards,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orderings_across_schemes() {
        let newer = |a: &str, b: &str| assert!(order_key(a) > order_key(b), "{a} > {b}");
        newer("24.04.10", "24.04.9");
        newer("24.04.1", "24.04");
        newer("2026.12.01", "2026.11.30");
        newer("2026.12.01", "2025.12.31");
        newer("42-1.1", "41-1.4");
        newer("42-1.2", "42-1.1");
        newer("24.04", "24.04-rc1");
        newer("24.04", "24.04~beta");
        newer("24.04-rc2", "24.04-rc1");
        newer("43", "43 Beta");
        newer("24.04-rc1", "23.10");
        newer("1.0", "1.0-alpha");
    }

    #[test]
    fn prereleases_are_recognised_however_spelled() {
        for version in [
            "24.04~beta",
            "26.04-rc1",
            "43 Beta",
            "daily",
            "26.04-alpha2",
            "20261201-daily",
            "1.0rc2",
        ] {
            assert!(is_prerelease(version), "{version}");
        }
        for version in ["24.04.1", "2026.12.01", "42-1.1", "3.22.1", "v1.2.3"] {
            assert!(!is_prerelease(version), "{version}");
        }
    }

    #[test]
    fn freshness_never_goes_backwards() {
        assert_eq!(freshness("24.04.2", None), Freshness::New);
        assert_eq!(freshness("24.04.2", Some("24.04.1")), Freshness::New);
        assert_eq!(freshness("24.04.1", Some("24.04.1")), Freshness::Current);
        assert_eq!(freshness("24.04.1", Some("24.04.10")), Freshness::Backwards);
        assert_eq!(freshness("24.04-rc1", Some("24.04")), Freshness::Backwards);
    }

    #[test]
    fn arch_names_default_and_override() {
        let policy: Policy = toml::from_str("").unwrap();
        assert!(policy.arch_matches(Arch::X86_64, Some("amd64")));
        assert!(policy.arch_matches(Arch::X86_64, Some("X86_64")));
        assert!(policy.arch_matches(Arch::X86_64, None));
        assert!(!policy.arch_matches(Arch::X86_64, Some("aarch64")));
        assert!(policy.arch_matches(Arch::Arm64, Some("aarch64")));
        let custom: Policy = toml::from_str(r#"arch_names = ["x64-efi"]"#).unwrap();
        assert!(custom.arch_matches(Arch::X86_64, Some("x64-efi")));
        assert!(!custom.arch_matches(Arch::X86_64, Some("amd64")));
    }

    #[test]
    fn signature_settings_must_come_with_pinned_keys() {
        let parse = |text: &str| toml::from_str::<Policy>(text).map_err(|e| e.to_string());
        assert!(
            parse(r#"signature = "SHA256SUMS.gpg""#)
                .unwrap_err()
                .contains("keys")
        );
        assert!(
            parse(r#"keys = ["843938DF228D22F7B3742BC0D94AA3F0EFE21092"]"#)
                .unwrap_err()
                .contains("signature")
        );
        assert!(
            parse(
                r#"signature = "x"
keys = ["1234"]"#
            )
            .unwrap_err()
            .contains("fingerprint")
        );
        let policy = parse(
            r#"signature = "{list}.gpg"
keys = ["8439 38DF 228D 22F7 B374  2BC0 D94A A3F0 EFE2 1092"]"#,
        )
        .unwrap();
        assert_eq!(policy.keys, ["843938DF228D22F7B3742BC0D94AA3F0EFE21092"]);
    }
}
