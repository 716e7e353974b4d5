//! The whole-list parser: bounds, encoding (UTF-8, optional BOM, LF or CRLF), comments
//! (with Fedora's `# <name>: <N> bytes` size comments), duplicates. A clearsigned list
//! (Fedora's `CHECKSUM`) is read from its signed text, unverified: this is discovery, and the
//! trust step verifies the same document before anything is downloaded
//! ([`crate::verify_clearsigned_list`]).

use super::entry::without_dot_slash;
use super::line::{LineDigest, parse_line};
use crate::{ChecksumEntry, ChecksumList, OtherDigest, VerifyError};
use std::collections::HashMap;

/// Largest checksum list accepted, checked before any parsing. Real lists are a few
/// kilobytes (Fedora's `CHECKSUM` is under 1 KiB, Debian's `SHA256SUMS` for every live
/// flavour about 1 KiB); this matches the cap the watchers download with.
pub const MAX_LIST_BYTES: usize = 4 * 1024 * 1024;

/// Characters of a bad line quoted in an error.
const EXCERPT_CHARS: usize = 80;
/// The UTF-8 byte-order mark some Windows tools write first.
const BOM: &str = "\u{feff}";
/// The first line of a clearsigned document (RFC 9580, 7.1).
const CLEARSIGNED_HEADER: &str = "-----BEGIN PGP SIGNED MESSAGE-----";

/// Bounds on what [`parse_checksum_list_with`] accepts. Real lists are a few kilobytes with
/// lines under 200 bytes; the defaults leave a wide margin while keeping a hostile list cheap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of the whole text.
    pub max_list_bytes: usize,
    /// Bytes of one line, without its line ending.
    pub max_line_bytes: usize,
    /// Entries (lines with a digest, of any algorithm).
    pub max_entries: usize,
}

impl Limits {
    /// [`MAX_LIST_BYTES`] of text, 4 KiB per line, 100 000 entries.
    pub const DEFAULT: Limits = Limits {
        max_list_bytes: MAX_LIST_BYTES,
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
///
/// A list with no entry at all parses to an empty [`ChecksumList`]; callers that need
/// entries call [`ChecksumList::require_sha256_entries`] (the signed-list functions do).
pub fn parse_checksum_list(text: &str) -> Result<ChecksumList, VerifyError> {
    parse_checksum_list_with(text, &Limits::DEFAULT)
}

/// Parses a checksum list given as bytes (as downloaded, or as the signed text of a
/// signature): the size is checked first, then a UTF-8 byte-order mark is dropped and the
/// rest must be UTF-8.
pub fn parse_checksum_bytes(bytes: &[u8], limits: &Limits) -> Result<ChecksumList, VerifyError> {
    let text = decode(bytes, limits)?;
    parse_checksum_list_with(text, limits)
}

/// The text inside a clearsigned document's `BEGIN PGP SIGNED MESSAGE` block, dash-unescaped,
/// with `\n` line ends; its signature is not looked at here.
fn signed_text(document: &str) -> Result<String, VerifyError> {
    let (message, _headers) = pgp::composed::CleartextSignedMessage::from_string(document)
        .map_err(|_| VerifyError::Malformed {
            line: 1,
            reason: "a clearsigned list whose framing does not parse",
            excerpt: CLEARSIGNED_HEADER.to_owned(),
        })?;
    Ok(message.signed_text().replace("\r\n", "\n"))
}

/// Parses a checksum list: blank lines and `#` comments are skipped, every other line must be
/// a checksum entry (SHA-256, or SHA-512/BLAKE2b which are recorded apart). The first error
/// stops parsing.
pub fn parse_checksum_list_with(text: &str, limits: &Limits) -> Result<ChecksumList, VerifyError> {
    if text.len() > limits.max_list_bytes {
        return Err(VerifyError::ListTooLarge {
            size: text.len(),
            limit: limits.max_list_bytes,
        });
    }
    let text = text.strip_prefix(BOM).unwrap_or(text);
    if text.trim_start().starts_with(CLEARSIGNED_HEADER) {
        let signed = signed_text(text)?;
        if signed.trim_start().starts_with(CLEARSIGNED_HEADER) {
            return Err(VerifyError::Malformed {
                line: 1,
                reason: "a clearsigned list inside a clearsigned list",
                excerpt: CLEARSIGNED_HEADER.to_owned(),
            });
        }
        return parse_checksum_list_with(&signed, limits);
    }
    let mut list = ChecksumList::default();
    let mut sizes = SizeComments::default();
    let mut lines = 0;
    for (index, raw) in text.split('\n').enumerate() {
        let line_no = index + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if !raw.is_empty() {
            lines = line_no;
        }
        if line.len() > limits.max_line_bytes {
            return Err(VerifyError::LineTooLong {
                line: line_no,
                len: line.len(),
                limit: limits.max_line_bytes,
            });
        }
        let content = line.trim_start();
        let malformed = |reason: &'static str| VerifyError::Malformed {
            line: line_no,
            reason,
            excerpt: line.chars().take(EXCERPT_CHARS).collect(),
        };
        if let Some(comment) = content.strip_prefix('#') {
            sizes.note(comment, line_no).map_err(malformed)?;
            continue;
        }
        if content.is_empty() {
            continue;
        }
        if content.starts_with('<') {
            return Err(VerifyError::HtmlPage { line: line_no });
        }
        let parsed = parse_line(content).map_err(malformed)?;
        if list.total() >= limits.max_entries {
            return Err(VerifyError::TooManyEntries {
                line: line_no,
                limit: limits.max_entries,
            });
        }
        match parsed.digest {
            LineDigest::Other(algorithm, hex) => list.push_other(OtherDigest {
                name: parsed.name,
                algorithm,
                hex,
                line: line_no,
            }),
            LineDigest::Sha256(sha256) => {
                let entry = ChecksumEntry {
                    name: parsed.name,
                    sha256,
                    line: line_no,
                    form: parsed.form,
                    size: None,
                };
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
        }
    }
    for (name, (size, _)) in sizes.by_name {
        list.set_size(&name, size);
    }
    list.set_lines(lines);
    Ok(list)
}

/// Checks the size, drops a BOM and decodes UTF-8, naming the first line that is not.
pub(crate) fn decode<'a>(bytes: &'a [u8], limits: &Limits) -> Result<&'a str, VerifyError> {
    if bytes.len() > limits.max_list_bytes {
        return Err(VerifyError::ListTooLarge {
            size: bytes.len(),
            limit: limits.max_list_bytes,
        });
    }
    let bytes = bytes.strip_prefix(BOM.as_bytes()).unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|error| VerifyError::NotUtf8 {
        line: 1 + bytes[..error.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
    })
}

/// Fedora's `# Fedora-Workstation-Live-42-1.1.x86_64.iso: 2398523392 bytes` comments.
#[derive(Default)]
struct SizeComments {
    /// Name → (size, line of the comment).
    by_name: HashMap<String, (u64, usize)>,
}

impl SizeComments {
    /// Records `comment` (the text after `#`) if it states a size; any other comment is
    /// ignored. The same file given two different sizes is an error.
    fn note(&mut self, comment: &str, line: usize) -> Result<(), &'static str> {
        let Some((name, size)) = size_comment(comment) else {
            return Ok(());
        };
        match self.by_name.get(name) {
            Some(&(earlier, _)) if earlier != size => {
                Err("this size comment contradicts an earlier one for the same file")
            }
            Some(_) => Ok(()),
            None => {
                self.by_name.insert(name.to_owned(), (size, line));
                Ok(())
            }
        }
    }
}

/// `" <name>: <digits> bytes"` → `(name, size)`.
fn size_comment(comment: &str) -> Option<(&str, u64)> {
    let body = comment.trim().strip_suffix(" bytes")?;
    let (name, size) = body.rsplit_once(": ")?;
    let name = name.trim();
    let name = without_dot_slash(name);
    if name.is_empty() || size.is_empty() || !size.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((name, size.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

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

    #[test]
    fn size_is_checked_before_decoding() {
        let limits = Limits {
            max_list_bytes: 4,
            ..Limits::DEFAULT
        };
        // Five bytes of invalid UTF-8: the size error wins, nothing was decoded.
        let error = parse_checksum_bytes(&[0xff; 5], &limits).unwrap_err();
        assert_eq!(error.kind(), "checksum-list-too-large");
    }

    #[test]
    fn size_comments_are_read_strictly() {
        assert_eq!(
            size_comment(" Fedora-Workstation-Live-42-1.1.x86_64.iso: 2398523392 bytes"),
            Some(("Fedora-Workstation-Live-42-1.1.x86_64.iso", 2398523392))
        );
        assert_eq!(size_comment(" a b.iso: 12 bytes "), Some(("a b.iso", 12)));
        assert_eq!(size_comment(" a.iso: twelve bytes"), None);
        assert_eq!(size_comment(" a.iso: -1 bytes"), None);
        assert_eq!(size_comment(" a.iso 12 bytes"), None);
        assert_eq!(size_comment(": 12 bytes"), None);
        assert_eq!(size_comment(" a.iso: 99999999999999999999999 bytes"), None);
        assert_eq!(size_comment(" generated by pungi"), None);
    }
}
