//! One-file companions: `manjaro-kde-25.0.10-251013-linux612.iso.sha256` beside its ISO,
//! holding one line, either `<hex>  <name>` or just `<hex>`.

use super::line::{LineDigest, bare_sha256, parse_line};
use super::parse::decode;
use crate::{ChecksumEntry, Limits, LineForm, VerifyError};

/// Largest companion accepted: one line with a long name fits in far less.
pub const MAX_COMPANION_BYTES: usize = 64 * 1024;

/// Parses the companion checksum of `file_name` (the name of the file it accompanies, such
/// as `manjaro-kde-25.0.10-251013-linux612.iso`). Blank lines and `#` comments are allowed;
/// exactly one entry must remain. A named entry must name `file_name` (its last path
/// component is compared, so `./x.iso` and `dir/x.iso` match `x.iso`); a bare digest takes
/// `file_name` as its name.
pub fn parse_companion_checksum(
    bytes: &[u8],
    file_name: &str,
) -> Result<ChecksumEntry, VerifyError> {
    let limits = Limits {
        max_list_bytes: MAX_COMPANION_BYTES,
        ..Limits::DEFAULT
    };
    let text = decode(bytes, &limits)?;
    let mut found: Option<ChecksumEntry> = None;
    let mut lines = 0;
    for (index, raw) in text.split('\n').enumerate() {
        let line_no = index + 1;
        if !raw.is_empty() {
            lines = line_no;
        }
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let content = line.trim_start();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if content.starts_with('<') {
            return Err(VerifyError::HtmlPage { line: line_no });
        }
        if found.is_some() {
            return Err(VerifyError::TooManyEntries {
                line: line_no,
                limit: 1,
            });
        }
        let malformed = |reason: &'static str| VerifyError::Malformed {
            line: line_no,
            reason,
            excerpt: line.chars().take(80).collect(),
        };
        if let Some(sha256) = bare_sha256(content) {
            found = Some(ChecksumEntry {
                name: file_name.to_owned(),
                sha256,
                line: line_no,
                form: LineForm::Bare,
                size: None,
            });
            continue;
        }
        let parsed = parse_line(content).map_err(malformed)?;
        let LineDigest::Sha256(sha256) = parsed.digest else {
            return Err(malformed("the digest is not SHA-256"));
        };
        let listed = parsed.name.rsplit('/').next().unwrap_or(&parsed.name);
        if listed != file_name {
            return Err(VerifyError::NameMismatch {
                line: line_no,
                expected: file_name.to_owned(),
                found: parsed.name,
            });
        }
        found = Some(ChecksumEntry {
            name: file_name.to_owned(),
            sha256,
            line: line_no,
            form: parsed.form,
            size: None,
        });
    }
    found.ok_or(VerifyError::NoSha256Entries {
        lines,
        other_digests: 0,
        first_other_line: None,
    })
}
