//! Names: decoding the three name spaces an image can carry (Rock Ridge, Joliet, plain
//! ISO 9660), refusing unsafe ones, and splitting the paths callers ask for.

use crate::error::IsoError;

/// Longest name accepted, in bytes (Linux `NAME_MAX`). Rock Ridge names can be longer
/// through continuation areas; nothing a recipe needs is.
pub const MAX_NAME_BYTES: usize = 255;

/// Which directory tree and name encoding an image is read through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    /// Primary tree with Rock Ridge `NM` names (POSIX names, symlinks, modes).
    RockRidge,
    /// Joliet supplementary tree: UCS-2/UTF-16 big-endian names.
    Joliet,
    /// Primary tree with plain ISO 9660 identifiers (`NAME.EXT;1`).
    Plain,
}

impl Namespace {
    /// Lower-case name for messages and `--json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RockRidge => "rock-ridge",
            Self::Joliet => "joliet",
            Self::Plain => "iso9660",
        }
    }
}

/// Removes an ISO 9660 version suffix (`;1`) and, for plain names, the lone trailing dot of
/// a name without extension (`README.;1` is `README`).
pub(crate) fn strip_version(name: &str, trailing_dot: bool) -> &str {
    let base = match name.rsplit_once(';') {
        Some((base, version)) if version.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => name,
    };
    if trailing_dot && base.len() > 1 {
        base.strip_suffix('.').unwrap_or(base)
    } else {
        base
    }
}

/// Decodes a Joliet identifier (UTF-16 big-endian).
pub(crate) fn decode_joliet(raw: &[u8]) -> Option<String> {
    if !raw.len().is_multiple_of(2) {
        return None;
    }
    let units = raw
        .chunks_exact(2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
}

/// Refuses names that could escape or confuse a path: empty, `.`, `..`, `/`, NUL, too long.
pub(crate) fn check_name(dir: &str, name: &str) -> Result<(), IsoError> {
    let reason = if name.is_empty() {
        "empty name"
    } else if name == "." || name == ".." {
        "`.` and `..` are not file names"
    } else if name.contains('/') {
        "contains `/`"
    } else if name.contains('\0') {
        "contains NUL"
    } else if name.len() > MAX_NAME_BYTES {
        "longer than 255 bytes"
    } else {
        return Ok(());
    };
    Err(IsoError::BadName {
        dir: dir.to_owned(),
        name: name.to_owned(),
        reason,
    })
}

/// Splits a caller's path into components: leading, repeated and trailing `/` and `.`
/// components are ignored; `..` and NUL are refused (paths never climb).
pub(crate) fn split_path(path: &str) -> Result<Vec<&str>, IsoError> {
    if path.contains('\0') {
        return Err(IsoError::InvalidPath {
            path: path.to_owned(),
            reason: "contains NUL",
        });
    }
    let mut components = Vec::new();
    for component in path.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                return Err(IsoError::InvalidPath {
                    path: path.to_owned(),
                    reason: "`..` is not allowed",
                });
            }
            name => components.push(name),
        }
    }
    Ok(components)
}

/// Joins a parent path and a name into an absolute path (`/` for the root).
pub(crate) fn join(parent: &str, name: &str) -> String {
    if parent == "/" || parent.is_empty() {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// True when a component contains glob syntax (`*`, `?`, `[`, `{`).
pub(crate) fn has_glob_meta(component: &str) -> bool {
    component.contains(['*', '?', '[', '{'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_versions_and_trailing_dots() {
        assert_eq!(strip_version("VMLINUZ.;1", true), "VMLINUZ");
        assert_eq!(strip_version("INITRD.IMG;1", true), "INITRD.IMG");
        assert_eq!(strip_version("a;b", true), "a;b");
        assert_eq!(strip_version("x.;1", false), "x.");
    }

    #[test]
    fn splits_paths() {
        assert_eq!(
            split_path("/live//./vmlinuz/").unwrap(),
            ["live", "vmlinuz"]
        );
        assert!(split_path("/").unwrap().is_empty());
        assert!(split_path("/live/../etc").is_err());
        assert!(split_path("a\0b").is_err());
    }

    #[test]
    fn refuses_unsafe_names() {
        for bad in ["", ".", "..", "a/b", "a\0", &"x".repeat(256)] {
            assert!(check_name("/", bad).is_err(), "{bad:?}");
        }
        check_name("/", "vmlinuz-6.1.0-amd64").unwrap();
    }

    #[test]
    fn decodes_joliet() {
        assert_eq!(decode_joliet(&[0, b'a', 0, b'b']).as_deref(), Some("ab"));
        assert_eq!(decode_joliet(&[0]), None);
        assert_eq!(decode_joliet(&[0xd8, 0x00]), None);
    }
}
