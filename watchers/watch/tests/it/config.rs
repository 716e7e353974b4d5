//! `WatchConfig::parse`: every kind's table, and refusals naming file and key.

use crate::recipe;
use repack_watch::{KINDS, KindConfig, WatchConfig};

fn parse(kind: &str, watch: &str, extra: &str) -> Result<WatchConfig, String> {
    WatchConfig::parse(&recipe(kind, watch, extra)).map_err(|error| {
        assert_eq!(error.kind(), "watch-config");
        error.to_string()
    })
}

#[test]
fn each_kind_parses_its_example() {
    let examples = [
        (
            "checksums",
            "url = \"https://a/SHA256SUMS\"\npattern = '^a-(?P<version>[0-9.]+)\\.iso$'",
        ),
        (
            "html-index",
            "url = \"https://a/\"\npattern = '^a-(?P<version>[0-9.]+)\\.iso$'\nchecksum = \"{name}.sha256\"",
        ),
        (
            "json",
            "url = \"https://a/releases.json\"\nfields = { url = \"link\", sha256 = \"sha256\" }\nfilter = { variant = \"Workstation\" }",
        ),
        (
            "yaml",
            "url = \"https://a/latest-releases.yaml\"\nfields = { url = \"iso\", sha256 = \"sha256\" }",
        ),
        (
            "github",
            "repo = \"example-os/live\"\nasset_pattern = '\\.iso$'",
        ),
    ];
    for (kind, watch) in examples {
        let config = parse(kind, watch, "").unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(config.kind.name(), kind);
    }
    assert_eq!(KINDS.len(), examples.len());
}

#[test]
fn unknown_kind_lists_the_known_ones() {
    let error = parse("rss", "url = \"https://a/\"", "").unwrap_err();
    assert!(error.contains("compliance.toml"), "{error}");
    assert!(
        error.contains("`rss`") && error.contains("html-index"),
        "{error}"
    );
}

#[test]
fn unknown_key_of_a_kind_is_named() {
    let error = parse(
        "checksums",
        "url = \"https://a/SHA256SUMS\"\npattern = '(?P<version>.)'\nchecksum = \"none\"",
        "",
    )
    .unwrap_err();
    assert!(
        error.contains("`checksum`") && error.contains("checksums"),
        "{error}"
    );
}

#[test]
fn shared_keys_are_checked_too() {
    let watch = "url = \"https://a/SHA256SUMS\"\npattern = '(?P<version>.)'";
    let error = parse("checksums", watch, "prerelease = \"yes\"").unwrap_err();
    assert!(
        error.contains("prerelease") || error.contains("boolean"),
        "{error}"
    );
    let error = parse("checksums", watch, "include = '('").unwrap_err();
    assert!(error.contains("regular expression"), "{error}");
    let config = parse(
        "checksums",
        watch,
        "include = 'desktop'\nexclude = 'beta'\nprerelease = true\narch_names = [\"x64\"]",
    )
    .unwrap();
    assert!(config.policy.prerelease);
    assert_eq!(
        config.policy.arch_names.as_deref(),
        Some(&["x64".to_owned()][..])
    );
}

#[test]
fn missing_required_key_is_named() {
    let error = parse(
        "html-index",
        "url = \"https://a/\"\npattern = '(?P<version>.)'",
        "",
    )
    .unwrap_err();
    assert!(error.contains("checksum"), "{error}");
    let error = parse("json", "url = \"https://a/x.json\"", "").unwrap_err();
    assert!(
        error.contains("sha256") && error.contains("none"),
        "{error}"
    );
}

#[test]
fn structured_kinds_keep_their_selectors() {
    let config = parse(
        "json",
        "url = \"https://a/releases.json\"\nlist = \"/releases\"\nbase_url = \"https://mirror.example/\"\n\
         fields = { version = \"version\", url = \"iso_url\", sha256 = \"sha256_sum\", date = \"release_date\" }\n\
         filter = { available = true }",
        "",
    )
    .unwrap();
    let KindConfig::Json(json) = config.kind else {
        panic!("not json");
    };
    assert_eq!(json.list, "/releases");
    assert_eq!(json.fields.url, "iso_url");
    assert_eq!(json.filter["available"], serde_json::json!(true));
}
