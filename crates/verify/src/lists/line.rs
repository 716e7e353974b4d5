//! One checksum line: GNU (`<hex>  name`, `<hex> *name`) and BSD (`SHA256 (name) = <hex>`)
//! forms, the digest typed by its tag or its length.

use super::entry::{LineForm, OtherAlgorithm, without_dot_slash};
use repack_core::Sha256Digest;

/// Hex digits in a SHA-256 digest.
pub(crate) const SHA256_HEX_LEN: usize = 64;
/// Hex digits in a SHA-512 or BLAKE2b-512 digest.
const WIDE_HEX_LEN: usize = 128;

/// What one entry line says, before it joins a list.
#[derive(Debug)]
pub(crate) struct ParsedLine {
    pub name: String,
    pub form: LineForm,
    pub digest: LineDigest,
}

#[derive(Debug)]
pub(crate) enum LineDigest {
    Sha256(Sha256Digest),
    Other(OtherAlgorithm, String),
}

/// Parses one non-blank, non-comment line (leading whitespace removed). The error is the
/// reason, for [`crate::VerifyError::Malformed`].
pub(crate) fn parse_line(content: &str) -> Result<ParsedLine, &'static str> {
    let (escaped, body) = match content.strip_prefix('\\') {
        Some(rest) => (true, rest),
        None => (false, content),
    };
    let (raw_name, hex, form, tag) = if starts_gnu(body) {
        let (name, hex, form) = split_gnu(body)?;
        (name, hex, form, None)
    } else if let Some((tag, name, hex)) = split_bsd(body)? {
        (name, hex, LineForm::Bsd, Some(tag))
    } else {
        let (name, hex, form) = split_gnu(body)?;
        (name, hex, form, None)
    };
    let digest = parse_digest(hex, tag)?;
    let name = if escaped {
        unescape(raw_name)?
    } else {
        raw_name.to_owned()
    };
    let name = match without_dot_slash(&name) {
        stripped if stripped.len() == name.len() => name,
        stripped => stripped.to_owned(),
    };
    if name.is_empty() {
        return Err("the file name is empty");
    }
    if name.contains('\0') {
        return Err("the file name contains a NUL character");
    }
    Ok(ParsedLine { name, form, digest })
}

/// True when `content` is nothing but one SHA-256 digest (a bare companion line).
pub(crate) fn bare_sha256(content: &str) -> Option<Sha256Digest> {
    let hex = content.trim_end();
    (hex.len() == SHA256_HEX_LEN && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.parse().ok())
        .flatten()
}

fn starts_gnu(body: &str) -> bool {
    let hex_len = body.bytes().take_while(u8::is_ascii_hexdigit).count();
    hex_len > 0 && body.as_bytes().get(hex_len) == Some(&b' ')
}

/// The BSD tags this parser knows, with the algorithm each names (`None`: SHA-256).
fn bsd_algorithm(tag: &str) -> Option<Option<OtherAlgorithm>> {
    match tag {
        "SHA256" | "SHA2-256" => Some(None),
        "SHA512" | "SHA2-512" => Some(Some(OtherAlgorithm::Sha512)),
        "BLAKE2b" | "BLAKE2b-512" | "BLAKE2B-512" => Some(Some(OtherAlgorithm::Blake2b)),
        _ => None,
    }
}

/// A BSD line cut up: the algorithm its tag names (`None`: SHA-256), the name, the digest.
type BsdParts<'a> = (Option<OtherAlgorithm>, &'a str, &'a str);

/// Recognises `TAG (name) = hex` (also `TAG(name)= hex` as OpenSSL writes it). Returns
/// `Ok(None)` when the line does not start like a BSD entry at all.
fn split_bsd(body: &str) -> Result<Option<BsdParts<'_>>, &'static str> {
    let Some(open) = body.find('(') else {
        return Ok(None);
    };
    let tag = body[..open].trim_end();
    if tag.is_empty() || !tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Ok(None);
    }
    let Some(algorithm) = bsd_algorithm(tag) else {
        return Err("BSD-form entry for an algorithm other than SHA256, SHA512 or BLAKE2b");
    };
    let rest = &body[open + 1..];
    let Some(equals) = rest.rfind('=') else {
        return Err("BSD-form entry without `= <digest>`");
    };
    let hex = rest[equals + 1..].trim();
    let Some(name) = rest[..equals].trim_end().strip_suffix(')') else {
        return Err("BSD-form entry without `)` after the file name");
    };
    Ok(Some((algorithm, name, hex)))
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
    if hex_len != SHA256_HEX_LEN && hex_len != WIDE_HEX_LEN {
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

/// Types the digest: by its BSD tag when there is one (`Some(None)` is SHA-256), else by
/// its length. A tag and a length that disagree are an error.
fn parse_digest(
    hex: &str,
    tag: Option<Option<OtherAlgorithm>>,
) -> Result<LineDigest, &'static str> {
    if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("digest is not hex digits");
    }
    match (tag, hex.len()) {
        (None | Some(None), SHA256_HEX_LEN) => hex
            .parse()
            .map(LineDigest::Sha256)
            .map_err(|_| "digest is not 64 hex digits"),
        (Some(None), _) => Err("digest is not 64 hex digits (not SHA-256?)"),
        (None, WIDE_HEX_LEN) => Ok(LineDigest::Other(
            OtherAlgorithm::Sha512OrBlake2b,
            hex.to_ascii_lowercase(),
        )),
        (Some(Some(algorithm)), WIDE_HEX_LEN) => {
            Ok(LineDigest::Other(algorithm, hex.to_ascii_lowercase()))
        }
        (Some(Some(_)), _) => Err("SHA512/BLAKE2b digest is not 128 hex digits"),
        (None, _) => Err("digest is not 64 hex digits (not SHA-256?)"),
    }
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

    fn sha256_name(line: &str) -> (String, LineForm) {
        let parsed = parse_line(line).unwrap();
        assert!(matches!(parsed.digest, LineDigest::Sha256(_)), "{line}");
        (parsed.name, parsed.form)
    }

    #[test]
    fn single_space_gnu_form_is_accepted() {
        assert_eq!(
            sha256_name(&format!("{HEX_A} a.iso")),
            ("a.iso".into(), LineForm::Gnu)
        );
    }

    #[test]
    fn openssl_spelling_of_bsd_form_is_accepted() {
        assert_eq!(
            sha256_name(&format!("SHA256(a.iso)= {HEX_A}")),
            ("a.iso".into(), LineForm::Bsd)
        );
    }

    #[test]
    fn bsd_name_may_contain_parentheses_and_equals() {
        assert_eq!(
            sha256_name(&format!("SHA256 (a (1) = b.iso) = {HEX_A}")).0,
            "a (1) = b.iso"
        );
    }

    #[test]
    fn escaped_names_are_unescaped() {
        assert_eq!(
            sha256_name(&format!("\\{HEX_A}  a\\\\b\\nc.iso")).0,
            "a\\b\nc.iso"
        );
        assert!(parse_line(&format!("\\{HEX_A}  a\\x.iso")).is_err());
    }

    #[test]
    fn wide_digests_are_typed_by_tag_or_length() {
        let wide = "B".repeat(128);
        let typed = |line: String| match parse_line(&line).unwrap().digest {
            LineDigest::Other(algorithm, hex) => (algorithm, hex),
            LineDigest::Sha256(_) => panic!("{line} taken for SHA-256"),
        };
        assert_eq!(
            typed(format!("{wide}  a.iso")),
            (OtherAlgorithm::Sha512OrBlake2b, "b".repeat(128))
        );
        assert_eq!(
            typed(format!("SHA512 (a.iso) = {wide}")).0,
            OtherAlgorithm::Sha512
        );
        assert_eq!(
            typed(format!("BLAKE2b (a.iso) = {wide}")).0,
            OtherAlgorithm::Blake2b
        );
    }

    #[test]
    fn tag_and_length_must_agree() {
        let wide = "b".repeat(128);
        assert!(parse_line(&format!("SHA256 (a.iso) = {wide}")).is_err());
        assert!(parse_line(&format!("SHA512 (a.iso) = {HEX_A}")).is_err());
        assert!(parse_line(&format!("{}  a.iso", "c".repeat(96))).is_err());
    }

    #[test]
    fn bare_digest_is_recognised_only_alone() {
        assert!(bare_sha256(HEX_A).is_some());
        assert!(bare_sha256(&format!("{HEX_A}  ")).is_some());
        assert!(bare_sha256(&format!("{HEX_A}  a.iso")).is_none());
        assert!(bare_sha256(&HEX_A[1..]).is_none());
    }
}
