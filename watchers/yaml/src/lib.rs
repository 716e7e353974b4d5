//! The `yaml` watcher: an upstream publishes its releases as a YAML document (Alpine's
//! `latest-releases.yaml`: a list of `{title, flavor, arch, version, file, iso, date,
//! sha256, size, ...}`), selected with the same settings as the `json` kind.
//!
//! ```toml
//! [watch]
//! kind = "yaml"
//! url = "https://dl-cdn.alpinelinux.org/alpine/latest-stable/releases/x86_64/latest-releases.yaml"
//! fields = { url = "iso", sha256 = "sha256", size = "size", date = "date", arch = "arch" }
//! filter = { flavor = "alpine-extended" }
//! ```
//!
//! The document is read with the YAML 1.2 parser of `serde-saphyr` into the JSON value
//! model with every scalar kept as the text written ([`parse`]), so [`select`] treats both
//! kinds alike and a digest or version is never reinterpreted as a number.
//! A relative `iso` resolves next to the YAML file. [`candidates`] fetches the document
//! (capped at [`MAX_DOCUMENT_BYTES`]) through [`Feeds`] (the shared fetcher, conditionally
//! on kept copies); an HTML page served with status 200, a document that is not YAML, and an
//! empty list are errors. Publish times come from the `date` field only.

// Feed errors carry the fetcher's error (both URLs); returned once per check.
#![allow(clippy::result_large_err)]

use repack_core::{Candidate, Recipe};
use repack_watch_common::entry::Entry;
use repack_watch_common::select::{StructuredConfig, select, structured_candidates};
use repack_watch_common::{FeedError, Feeds, text};

/// Largest document accepted. Alpine's is ~5 kB per architecture.
pub const MAX_DOCUMENT_BYTES: u64 = 1024 * 1024;

const WHAT: &str = "YAML feed";

/// The `[watch]` settings of the `yaml` kind.
pub type Config = StructuredConfig;

/// Every release the document lists that passes the recipe's filters and pattern.
pub async fn candidates(
    config: &Config,
    recipe: &Recipe,
    feeds: Feeds<'_>,
) -> Result<Vec<Candidate>, FeedError> {
    structured_candidates(
        config,
        recipe,
        feeds,
        WHAT,
        MAX_DOCUMENT_BYTES,
        entries_from_document,
    )
    .await
}

/// The selected entries of a document already fetched from `config.url`.
pub fn entries_from_document(config: &Config, body: &str) -> Result<Vec<Entry>, FeedError> {
    let body = text::document(WHAT, &config.url, body)?;
    let document = parse(body).map_err(|detail| FeedError::Malformed {
        what: WHAT,
        url: config.url.clone(),
        detail,
    })?;
    select(config, WHAT, &document)
}

/// Deepest nesting accepted; Alpine's document is two levels deep.
pub const MAX_DEPTH: usize = 64;

/// The document as a JSON value in which **every scalar is a string** (plain `null`, `~`
/// and empty scalars are null): YAML's implicit typing would turn an all-digit digest into
/// a float and `3.20` into `3.2`, and a digest or a version must stay the text the upstream
/// wrote. Only the first document is read. Aliases (`*name`) are refused, so nothing can
/// expand; nesting is capped at [`MAX_DEPTH`]. The error text says where parsing failed.
pub fn parse(body: &str) -> Result<serde_json::Value, String> {
    use serde_json::{Map, Value};
    use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};

    enum Frame {
        Seq(Vec<Value>),
        Map(Map<String, Value>, Option<String>),
    }

    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Value> = None;
    for item in Parser::new_from_str(body) {
        let (event, span) = item.map_err(|error| format!("not YAML: {error}"))?;
        let value = match event {
            Event::Scalar(text, style, _, _) => {
                let plain = matches!(style, ScalarStyle::Plain);
                if plain && matches!(text.as_ref(), "" | "~" | "null" | "Null" | "NULL") {
                    Value::Null
                } else {
                    Value::String(text.into_owned())
                }
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if stack.len() == MAX_DEPTH {
                    return Err(format!("nested deeper than {MAX_DEPTH} levels"));
                }
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq(Vec::new())
                } else {
                    Frame::Map(Map::new(), None)
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq(items)) => Value::Array(items),
                Some(Frame::Map(map, _)) => Value::Object(map),
                None => return Err("unbalanced collection".to_owned()),
            },
            Event::Alias(_) | Event::UnresolvedAlias(_) => {
                return Err(format!(
                    "uses an alias (`*name`) at byte {}; release feeds have no use for them",
                    span.start.index()
                ));
            }
            Event::DocumentEnd if root.is_some() => break,
            _ => continue,
        };
        match stack.last_mut() {
            None => root = Some(value),
            Some(Frame::Seq(items)) => items.push(value),
            Some(Frame::Map(map, key)) => match key.take() {
                Some(key) => {
                    map.insert(key, value);
                }
                None => match value {
                    Value::String(text) => *key = Some(text),
                    Value::Null => *key = Some(String::new()),
                    _ => return Err("a mapping key is not a plain value".to_owned()),
                },
            },
        }
    }
    Ok(root.unwrap_or(Value::Null))
}
