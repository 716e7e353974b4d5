//! Arbitrary pages never panic and never yield more than they contain.

use crate::config;
use proptest::prelude::*;
use repack_watch_html_index::entries_from_page;

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<a href=\"".to_owned()),
        Just("\">".to_owned()),
        Just("</a>".to_owned()),
        Just("os-1.2.iso".to_owned()),
        Just("../".to_owned()),
        Just("%2F".to_owned()),
        Just("<!--".to_owned()),
        Just("-->".to_owned()),
        Just("<script>".to_owned()),
        Just("<a href='//other.example/os-9.iso'>".to_owned()),
        Just("&amp;".to_owned()),
        "\\PC{0,12}",
    ]
}

proptest! {
    #[test]
    fn html_like_input(parts in proptest::collection::vec(fragment(), 0..60)) {
        let page = parts.concat();
        let (_, config) = config(
            "url = \"https://a.example/os/\"\npattern = '^os-(?P<version>[0-9.]+)\\.iso$'\nchecksum = \"none\"",
        );
        if let Ok(entries) = entries_from_page(&config, "https://a.example/os/", &page) {
            prop_assert!(entries.len() <= page.matches("href").count());
            for entry in entries {
                prop_assert!(entry.name.starts_with("os-") && entry.name.ends_with(".iso"));
                prop_assert!(matches!(entry.url.scheme(), "http" | "https"));
            }
        }
    }

    #[test]
    fn any_text(page in "\\PC{0,400}") {
        let (_, config) = config(
            "url = \"https://a.example/os/\"\npattern = '(?P<version>.+)'\nchecksum = \"none\"",
        );
        if let Ok(entries) = entries_from_page(&config, "https://a.example/os/", &page) {
            prop_assert!(entries.len() <= page.matches("href").count());
        }
    }
}
