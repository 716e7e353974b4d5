//! Which asset names and sizes GitHub keeps as they are.
//!
//! GitHub renames asset files whose names have special or non-alphanumeric characters, or
//! leading or trailing periods (the upload endpoint's documentation; spaces, `~`, `:`,
//! parentheses and `+` come back as `.`), and refuses assets of 2 GiB or more. A renamed
//! asset would no longer match the manifest, so such names are refused before anything is
//! uploaded, never mapped silently.

use crate::PublishError;

/// An asset must be *smaller* than this (2 GiB): exactly 2 GiB is refused.
pub const MAX_ASSET_SIZE: u64 = 2 * 1024 * 1024 * 1024;

/// Why GitHub would rename `name`, or `None` when it keeps it unchanged.
pub fn rename_reason(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("it is empty");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    {
        return Some("it has characters other than ASCII letters, digits, `.`, `-` and `_`");
    }
    if name.starts_with('.') || name.ends_with('.') {
        return Some("it starts or ends with a period");
    }
    None
}

/// Refuses a name GitHub would rewrite or a size it would refuse.
pub(crate) fn check_asset(name: &str, size: u64) -> Result<(), PublishError> {
    if let Some(reason) = rename_reason(name) {
        return Err(PublishError::AssetName {
            name: name.to_owned(),
            reason,
        });
    }
    if size >= MAX_ASSET_SIZE {
        return Err(PublishError::AssetTooLarge {
            name: name.to_owned(),
            size,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_github_keeps_pass_and_the_others_say_why() {
        for kept in [
            "vmlinuz",
            "filesystem.squashfs.part2",
            "airootfs.sha512",
            "a_b-c.1",
        ] {
            assert_eq!(rename_reason(kept), None, "{kept}");
        }
        for renamed in [
            "with space",
            "a~b",
            "a:b",
            "a(1)",
            "x+y",
            ".hidden",
            "trail.",
            "",
        ] {
            assert!(rename_reason(renamed).is_some(), "{renamed}");
        }
    }

    #[test]
    fn exactly_two_gib_is_refused() {
        assert!(check_asset("a", MAX_ASSET_SIZE - 1).is_ok());
        let error = check_asset("a", MAX_ASSET_SIZE).unwrap_err();
        assert_eq!(error.kind(), "publish-asset-too-large");
    }
}
