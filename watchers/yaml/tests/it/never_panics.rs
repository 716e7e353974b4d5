//! The YAML reader over arbitrary text: no panic, and a document it accepts selects at most
//! as many entries as it has lines.

use crate::config;
use proptest::prelude::*;
use repack_watch_yaml::{entries_from_document, parse};

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("---\n".to_owned()),
        Just("-\n".to_owned()),
        Just("  iso: a-1.2.iso\n".to_owned()),
        Just("  sha256: ".to_owned() + &"a".repeat(64) + "\n"),
        Just("  version: 3.22.1\n".to_owned()),
        Just("  time: 08:33:57\n".to_owned()),
        Just("&x ".to_owned()),
        Just("*x".to_owned()),
        Just("[{".to_owned()),
        Just("\"\\u00".to_owned()),
        "\\PC{0,10}",
    ]
}

proptest! {
    #[test]
    fn yaml_like_input(parts in proptest::collection::vec(fragment(), 0..40)) {
        let text = parts.concat();
        let _ = parse(&text);
        let (_, config) = config(
            "url = \"https://a.example/r.yaml\"\nfields = { url = \"iso\", sha256 = \"sha256\" }",
        );
        if let Ok(entries) = entries_from_document(&config, &text) {
            prop_assert!(entries.len() <= text.lines().count());
        }
    }
}
