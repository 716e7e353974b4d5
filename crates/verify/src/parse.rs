//! The line parser for GNU (`<hex>  name`, `<hex> *name`) and BSD (`SHA256 (name) = <hex>`)
//! checksum lines.

use crate::{ChecksumEntry, ChecksumList, LineForm, VerifyError};
use repack_core::Sha256Digest;

/// Hex digits in a SHA-256 digest.
const SHA256_HEX_LEN: usize = 64;
/// Characters of a bad line quoted in an error.
const EXCERPT_CHARS: usize = 80;

/// Bounds on what [`parse_checksum_list_with`] accepts. Real lists are a few kilobytes with
/// lines under 200 bytes; the defaults leave a wide margin while keeping a hostile list cheap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of the whole text.
    pub max_list_bytes: usize,
    /// Bytes of one line, without its line ending.
    pub max_line_bytes: usize,
    /// Entries (distinct names).
    pub max_entries: usize,
}

impl Limits {
    /// 4 MiB of text, 4 KiB per line, 100 000 entries.
    pub const DEFAULT: Limits = Limits {
        max_list_bytes: 4 * 1024 * 1024,
        max_line_bytes: 4096,
        max_entries: 100_000,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// Parses a checksum list with the default [`Limits`].
pub fn parse_checksum_list(text: &str) -> Result<ChecksumList, VerifyError> {
    parse_checksum_list_with(text, &Limits::DEFAULT)
}

/// Parses a checksum list: blank lines and `#` comments are skipped, every other line must be
/// a SHA-256 entry. The first error stops parsing.
pub fn parse_checksum_list_with(text: &str, limits: &Limits) -> Result<ChecksumList, VerifyError> {
    if text.len() > limits.max_list_bytes {
        return Err(VerifyError::ListTooLarge {
            size: text.len(),
            limit: limits.max_list_bytes,
        });
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut list = ChecksumList::default();
    for (index, raw) in text.split('\n').enumerate() {
        let line_no = index + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.len() > limits.max_line_bytes {
            return Err(VerifyError::LineTooLong {
                line: line_no,
                len: line.len(),
                limit: limits.max_line_bytes,
            });
        }
        let content = line.trim_start();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let malformed = |reason: &'static str| VerifyError::Malformed {
            line: line_no,
            reason,
            excerpt: line.chars().take(EXCERPT_CHARS).collect(),
        };
        let entry = parse_entry(content, line_no).map_err(malformed)?;
        if list.len() >= limits.max_entries {
            return Err(VerifyError::TooManyEntries {
                line: line_no,
                limit: limits.max_entries,
            });
        }
        if let Err(first) = list.insert(entry.clone())
            && first.sha256 != entry.sha256
        {
            return Err(VerifyError::ConflictingDuplicate {
                name: entry.name,
                first_line: first.line,
                first: first.sha256.to_hex(),
                line: line_no,
                second: entry.sha256.to_hex(),
            });
        }
    }
    Ok(list)
}

/// Parses one non-blank, non-comment line (leading whitespace removed).
fn parse_entry(content: &str, line: usize) -> Result<ChecksumEntry, &'static str> {
    let (escaped, body) = match content.strip_prefix('\\') {
        Some(rest) => (true, rest),
        None => (false, content),
    };
    let starts_gnu = {
        let hex_len = body.bytes().take_while(u8::is_ascii_hexdigit).count();
        hex_len > 0 && body.as_bytes().get(hex_len) == Some(&b' ')
    };
    let (raw_name, hex, form) = if starts_gnu {
        split_gnu(body)?
    } else if let Some((name, hex)) = split_bsd(body)? {
        (name, hex, LineForm::Bsd)
    } else {
        split_gnu(body)?
    };
    let sha256 = parse_digest(hex)?;
    let name = if escaped {
        unescape(raw_name)?
    } else {
        raw_name.to_owned()
    };
    let name = match name.strip_prefix("./") {
        Some(rest) => rest.to_owned(),
        None => name,
    };
    if name.is_empty() {
        return Err("the file name is empty");
    }
    if name.contains('\0') {
        return Err("the file name contains a NUL character");
    }
    Ok(ChecksumEntry {
        name,
        sha256,
        line,
        form,
    })
}

/// Recognises `SHA256 (name) = hex` (also `SHA256(name)= hex` as OpenSSL writes it).
/// Returns `Ok(None)` when the line does not start like a BSD entry at all.
fn split_bsd(body: &str) -> Result<Option<(&str, &str)>, &'static str> {
    let Some(open) = body.find('(') else {
        return Ok(None);
    };
    let tag = body[..open].trim_end();
    if tag.is_empty() || !tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Ok(None);
    }
    if !matches!(tag, "SHA256" | "SHA2-256") {
        return Err("BSD-form entry for an algorithm other than SHA256");
    }
    let rest = &body[open + 1..];
    let Some(equals) = rest.rfind('=') else {
        return Err("BSD-form entry without `= <digest>`");
    };
    let hex = rest[equals + 1..].trim();
    let Some(name) = rest[..equals].trim_end().strip_suffix(')') else {
        return Err("BSD-form entry without `)` after the file name");
    };
    Ok(Some((name, hex)))
}

/// Recognises `hex  name`, `hex *name` and `hex name`.
fn split_gnu(body: &str) -> Result<(&str, &str, LineForm), &'static str> {
    let hex_len = body.bytes().take_while(u8::is_ascii_hexdigit).count();
    if hex_len == 0 {
        return Err(
            "not a checksum entry (expected `<sha256>  <name>` or `SHA256 (<name>) = <sha256>`)",
        );
    }
    let hex = &body[..hex_len];
    let Some(rest) = body[hex_len..].strip_prefix(' ') else {
        if hex_len == body.len() {
            return Err("digest without a file name");
        }
        return Err("expected a space after the digest");
    };
    if hex_len != SHA256_HEX_LEN {
        return Err("digest is not 64 hex digits (not SHA-256?)");
    }
    Ok(if let Some(name) = rest.strip_prefix('*') {
        (name, hex, LineForm::GnuBinary)
    } else if let Some(name) = rest.strip_prefix(' ') {
        (name, hex, LineForm::Gnu)
    } else {
        (rest, hex, LineForm::Gnu)
    })
}

fn parse_digest(hex: &str) -> Result<Sha256Digest, &'static str> {
    if hex.len() != SHA256_HEX_LEN || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("digest is not 64 hex digits (not SHA-256?)");
    }
    hex.parse().map_err(|_| "digest is not 64 hex digits")
}

/// Undoes `sha256sum`'s escaping of names with `\`, newline or carriage return.
fn unescape(name: &str) -> Result<String, &'static str> {
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            _ => return Err("invalid escape in the file name (only `\\\\`, `\\n`, `\\r`)"),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    #[test]
    fn single_space_gnu_form_is_accepted() {
        let list = parse_checksum_list(&format!("{HEX_A} a.iso")).unwrap();
        assert_eq!(list.get("a.iso").unwrap().form, LineForm::Gnu);
    }

    #[test]
    fn openssl_spelling_of_bsd_form_is_accepted() {
        let list = parse_checksum_list(&format!("SHA256(a.iso)= {HEX_A}")).unwrap();
        assert_eq!(list.get("a.iso").unwrap().form, LineForm::Bsd);
    }

    #[test]
    fn bsd_name_may_contain_parentheses_and_equals() {
        let list = parse_checksum_list(&format!("SHA256 (a (1) = b.iso) = {HEX_A}")).unwrap();
        assert!(list.get("a (1) = b.iso").is_some());
    }

    #[test]
    fn escaped_names_are_unescaped() {
        let list = parse_checksum_list(&format!("\\{HEX_A}  a\\\\b\\nc.iso")).unwrap();
        assert!(list.get("a\\b\nc.iso").is_some());
        assert!(parse_checksum_list(&format!("\\{HEX_A}  a\\x.iso")).is_err());
    }

    #[test]
    fn limits_are_enforced() {
        let limits = Limits {
            max_list_bytes: 1000,
            max_line_bytes: 100,
            max_entries: 1,
        };
        let two = format!("{HEX_A}  a.iso\n{HEX_A}  b.iso\n");
        assert_eq!(
            parse_checksum_list_with(&two, &limits).unwrap_err().kind(),
            "checksum-list-too-many-entries"
        );
        let long = format!("{HEX_A}  {}.iso", "x".repeat(100));
        assert_eq!(
            parse_checksum_list_with(&long, &limits).unwrap_err().line(),
            Some(1)
        );
        let big = "#".repeat(1001);
        assert_eq!(
            parse_checksum_list_with(&big, &limits).unwrap_err().kind(),
            "checksum-list-too-large"
        );
    }
}
