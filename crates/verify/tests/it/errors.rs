//! Lists that must be refused, and what the refusal says.

use crate::hex;
use repack_verify::{
    Limits, VerifyError, parse_checksum_bytes, parse_checksum_list, parse_checksum_list_with,
    parse_companion_checksum,
};

fn error_of(text: &str) -> VerifyError {
    parse_checksum_list(text).expect_err(text)
}

#[test]
fn malformed_line_names_its_line_number() {
    let text = format!("# header\n{}  a.iso\nthis is not a checksum\n", hex('a'));
    let error = error_of(&text);
    assert_eq!(error.kind(), "checksum-line-malformed");
    assert_eq!(error.line(), Some(3));
    let message = error.to_string();
    assert!(message.contains("line 3"), "{message}");
    assert!(message.contains("this is not a checksum"), "{message}");
}

#[test]
fn short_digest_is_malformed() {
    let error = error_of(&format!("{}  a.iso\n", &hex('a')[..40]));
    assert!(
        matches!(error, VerifyError::Malformed { line: 1, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("64 hex digits"), "{error}");
}

#[test]
fn sha512_digest_is_never_taken_for_sha256() {
    let list = parse_checksum_list(&format!("{}  a.iso\n", "a".repeat(128))).unwrap();
    assert!(list.get("a.iso").is_none());
    assert_eq!(list.other_digests().len(), 1);
    let error = list.require_sha256_entries().unwrap_err();
    assert_eq!(error.kind(), "checksum-list-empty");
    assert_eq!(error.line(), Some(1));
    assert!(error.to_string().contains("SHA-512/BLAKE2b"), "{error}");
}

#[test]
fn digest_of_another_length_is_malformed() {
    let error = error_of(&format!("{}  a.iso\n", "a".repeat(96)));
    assert!(error.to_string().contains("not SHA-256"), "{error}");
    let error = error_of(&format!("SHA256 (a.iso) = {}\n", "a".repeat(128)));
    assert!(error.to_string().contains("64 hex digits"), "{error}");
}

#[test]
fn non_hex_digest_is_malformed() {
    let digest = format!("{}g", &hex('a')[..63]);
    assert_eq!(error_of(&format!("{digest}  a.iso")).line(), Some(1));
    assert!(parse_checksum_list(&format!("SHA256 (a.iso) = {digest}")).is_err());
}

#[test]
fn digest_without_name_is_malformed() {
    assert!(
        error_of(&hex('a'))
            .to_string()
            .contains("without a file name")
    );
    assert_eq!(error_of(&format!("{}  ", hex('a'))).line(), Some(1));
    assert!(
        error_of(&format!("{} *", hex('a')))
            .to_string()
            .contains("empty")
    );
}

#[test]
fn other_bsd_algorithms_are_refused() {
    let error = error_of(&format!("MD5 (a.iso) = {}\n", &hex('a')[..32]));
    assert!(error.to_string().contains("other than SHA256"), "{error}");
    assert_eq!(error.line(), Some(1));
}

#[test]
fn bsd_line_without_parenthesis_or_equals_is_malformed() {
    assert!(parse_checksum_list(&format!("SHA256 (a.iso = {}", hex('a'))).is_err());
    assert!(parse_checksum_list("SHA256 (a.iso)").is_err());
}

#[test]
fn conflicting_duplicate_is_an_error_naming_both_lines() {
    let text = format!(
        "{}  a.iso\n{}  b.iso\n{} *a.iso\n",
        hex('a'),
        hex('b'),
        hex('c')
    );
    let error = error_of(&text);
    match &error {
        VerifyError::ConflictingDuplicate {
            name,
            first_line,
            line,
            ..
        } => {
            assert_eq!(name, "a.iso");
            assert_eq!((*first_line, *line), (1, 3));
        }
        other => panic!("unexpected error {other}"),
    }
    assert_eq!(error.kind(), "checksum-duplicate-name");
}

#[test]
fn duplicates_are_detected_across_forms_and_dot_slash() {
    let text = format!("{}  ./a.iso\nSHA256 (a.iso) = {}\n", hex('a'), hex('b'));
    assert_eq!(error_of(&text).kind(), "checksum-duplicate-name");
}

#[test]
fn nul_in_a_name_is_refused() {
    assert!(parse_checksum_list(&format!("{}  a\0.iso", hex('a'))).is_err());
}

#[test]
fn html_page_is_named_on_its_first_line() {
    let error = error_of("<!DOCTYPE html>\n<html><body>Not Found</body></html>\n");
    assert_eq!(error.kind(), "checksum-list-html");
    assert_eq!(error.line(), Some(1));
    assert!(error.to_string().contains("HTML page"), "{error}");
    let after_comment = error_of("# mirror\n\n  <html>\n");
    assert_eq!(after_comment.line(), Some(3));
}

#[test]
fn empty_lists_parse_but_are_refused_where_entries_are_needed() {
    for text in ["", "\n\n", "# only a comment\n", "\u{feff}\r\n"] {
        let list = parse_checksum_list(text).unwrap();
        let error = list.require_sha256_entries().unwrap_err();
        assert_eq!(error.kind(), "checksum-list-empty", "{text:?}");
        assert!(error.to_string().contains("no SHA-256 entry"), "{error}");
    }
}

#[test]
fn bytes_that_are_not_utf8_name_their_line() {
    let mut bytes = format!("{}  a.iso\n{}  b", hex('a'), hex('b')).into_bytes();
    bytes.extend_from_slice(&[0xff, 0xfe]);
    bytes.extend_from_slice(b".iso\n");
    let error = parse_checksum_bytes(&bytes, &Limits::DEFAULT).unwrap_err();
    assert_eq!(error, VerifyError::NotUtf8 { line: 2 });
    assert_eq!(error.kind(), "checksum-list-not-utf8");
}

#[test]
fn conflicting_size_comments_are_malformed() {
    let text = format!(
        "# a.iso: 10 bytes\n# a.iso: 11 bytes\n{}  a.iso\n",
        hex('a')
    );
    let error = error_of(&text);
    assert_eq!(error.line(), Some(2));
    assert!(error.to_string().contains("size comment"), "{error}");
}

#[test]
fn companion_must_name_its_file_and_hold_one_entry() {
    let iso = "manjaro-kde-25.0.10-251013-linux612.iso";
    let other = format!("{}  manjaro-xfce-25.0.10-251013-linux612.iso\n", hex('a'));
    let error = parse_companion_checksum(other.as_bytes(), iso).unwrap_err();
    assert_eq!(error.kind(), "checksum-name-mismatch");
    assert!(error.to_string().contains("manjaro-xfce"), "{error}");
    let two = format!("{0}  {iso}\n{0}  {iso}\n", hex('a'));
    let error = parse_companion_checksum(two.as_bytes(), iso).unwrap_err();
    assert_eq!(error, VerifyError::TooManyEntries { line: 2, limit: 1 });
    let error = parse_companion_checksum(b"\n# nothing\n", iso).unwrap_err();
    assert_eq!(error.kind(), "checksum-list-empty");
    let wide = format!("{}  {iso}\n", "a".repeat(128));
    let error = parse_companion_checksum(wide.as_bytes(), iso).unwrap_err();
    assert!(error.to_string().contains("not SHA-256"), "{error}");
    let html = parse_companion_checksum(b"<html>", iso).unwrap_err();
    assert_eq!(html.kind(), "checksum-list-html");
}

#[test]
fn default_limits_cap_list_and_line_size() {
    let long_line = format!("{}  {}.iso", hex('a'), "x".repeat(5000));
    assert_eq!(error_of(&long_line).kind(), "checksum-line-too-long");
    let huge = "#\n".repeat(Limits::DEFAULT.max_list_bytes / 2 + 1);
    assert_eq!(error_of(&huge).kind(), "checksum-list-too-large");
}

#[test]
fn custom_limits_apply() {
    let limits = Limits {
        max_entries: 2,
        ..Limits::DEFAULT
    };
    let text = format!("{}  a\n{}  b\n{}  c\n", hex('a'), hex('b'), hex('c'));
    let error = parse_checksum_list_with(&text, &limits).unwrap_err();
    assert_eq!(error.kind(), "checksum-list-too-many-entries");
    assert_eq!(error.line(), Some(3));
}
