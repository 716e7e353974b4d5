//! The parser sees hostile text: it must return, never panic, on anything.

use proptest::prelude::*;
use repack_verify::{Limits, parse_checksum_list, parse_checksum_list_with};

/// Lines that look almost like entries, to reach deep into the parser.
fn near_valid_line() -> impl Strategy<Value = String> {
    let digest = "[0-9a-fA-F]{60,68}";
    let name = "[ -~\\\\()=*é\\t]{0,24}";
    prop_oneof![
        (digest, "( |  | \\*|\\*)", name).prop_map(|(d, sep, n)| format!("{d}{sep}{n}")),
        (
            "(SHA256|SHA2-256|MD5|sha256|)",
            "( ?\\()?",
            name,
            "(\\) ?= ?)?",
            digest
        )
            .prop_map(|(tag, open, n, close, d)| format!("{tag}{open}{n}{close}{d}")),
        ("\\\\?[0-9a-f]{64}  ", "[a-z\\\\nrx]{0,12}").prop_map(|(d, n)| format!("{d}{n}")),
        "#[ -~]{0,30}",
        "[ \\t\\r]{0,3}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let _ = parse_checksum_list(&text);
    }

    #[test]
    fn near_valid_lists_never_panic_and_errors_name_a_real_line(
        lines in proptest::collection::vec(near_valid_line(), 0..12),
        crlf in any::<bool>(),
    ) {
        let text = lines.join(if crlf { "\r\n" } else { "\n" });
        let limits = Limits { max_line_bytes: 90, max_entries: 8, ..Limits::DEFAULT };
        match parse_checksum_list_with(&text, &limits) {
            Ok(list) => {
                for entry in list.entries() {
                    prop_assert!(!entry.name.is_empty());
                    prop_assert!(entry.line >= 1 && entry.line <= lines.len());
                    prop_assert_eq!(list.get(&entry.name), Some(entry));
                }
            }
            Err(error) => {
                if let Some(line) = error.line() {
                    prop_assert!(line >= 1 && line <= lines.len().max(1), "{error}");
                }
            }
        }
    }

    #[test]
    fn every_valid_gnu_entry_round_trips(
        names in proptest::collection::btree_set("[a-zA-Z0-9._-][a-zA-Z0-9._ -]{0,30}", 1..10),
    ) {
        let names: Vec<String> = names.into_iter().filter(|n| n != "." && !n.starts_with("./")).collect();
        let text: String = names
            .iter()
            .enumerate()
            .map(|(i, n)| format!("{:064x} *{n}\n", i))
            .collect();
        let list = parse_checksum_list(&text).unwrap();
        prop_assert_eq!(list.len(), names.len());
        for (i, name) in names.iter().enumerate() {
            prop_assert_eq!(list.get(name).unwrap().sha256.to_hex(), format!("{:064x}", i));
        }
    }
}
