//! Picking releases out of a structured document (JSON, or YAML read into the same value
//! model): the settings shared by the `json` and `yaml` kinds, and the selection itself.
//!
//! ```toml
//! [watch]
//! kind = "json"
//! url = "https://fedoraproject.org/releases.json"
//! list = ""                                  # JSON pointer to the array ("" = the document)
//! fields = { url = "link", sha256 = "sha256", size = "size", arch = "arch" }
//! filter = { variant = "Workstation", subvariant = "Workstation" }
//! pattern = '^Fedora-Workstation-Live-(?P<version>[0-9]+-[0-9.]+)\.x86_64\.iso$'
//! ```
//!
//! A field is named by its key, or by a JSON pointer (`/a/b`) for nested values. The
//! version comes from the pattern's `version` group when it has one, else from
//! `fields.version`. A list that is one object (Pop!_OS's build API) is a list of one.
//! Filters compare field values for equality (`"42"` equals `42`). An entry whose URL or
//! digest field is missing or null is left out (no ISO, or one that cannot be verified);
//! a malformed one is an error.

use crate::entry::{DigestSource, Entry};
use crate::{ChecksumSetting, FeedError, MAX_ENTRIES, NamePattern, urls};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use url::Url;

/// The settings of a structured feed. Invariant (checked when parsed): the digest has a
/// source — `fields.sha256`, or `checksum` naming a file or `"none"`, not both.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, try_from = "RawStructured")]
pub struct StructuredConfig {
    pub url: String,
    pub list: String,
    pub fields: Fields,
    pub filter: BTreeMap<String, Value>,
    pub pattern: Option<NamePattern>,
    pub base_url: Option<String>,
    pub checksum: Option<ChecksumSetting>,
}

/// The field names of one entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fields {
    /// The version (unless the pattern has a `version` group). Default `version`.
    #[serde(default = "default_version")]
    pub version: String,
    /// The ISO's URL, absolute or relative to `base_url` (default: the feed's URL).
    /// Default `url`.
    #[serde(default = "default_url")]
    pub url: String,
    /// The ISO's SHA-256 (hex, optionally prefixed `sha256:`).
    pub sha256: Option<String>,
    /// The ISO's size in bytes (a number or a string of digits).
    pub size: Option<String>,
    /// The publish date (RFC 3339 or `YYYY-MM-DD`).
    pub date: Option<String>,
    /// The upstream's architecture name.
    pub arch: Option<String>,
}

impl Default for Fields {
    fn default() -> Self {
        Fields {
            version: default_version(),
            url: default_url(),
            sha256: None,
            size: None,
            date: None,
            arch: None,
        }
    }
}

fn default_version() -> String {
    "version".to_owned()
}

fn default_url() -> String {
    "url".to_owned()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStructured {
    url: String,
    #[serde(default)]
    list: String,
    #[serde(default)]
    fields: Fields,
    #[serde(default)]
    filter: BTreeMap<String, Value>,
    pattern: Option<NamePattern>,
    base_url: Option<String>,
    checksum: Option<ChecksumSetting>,
}

impl TryFrom<RawStructured> for StructuredConfig {
    type Error = String;

    fn try_from(raw: RawStructured) -> Result<Self, String> {
        match (&raw.fields.sha256, &raw.checksum) {
            (None, None) => {
                return Err(
                    "say where the digest is: `fields.sha256`, or `checksum` naming a \
                            checksum file next to the ISO, or `checksum = \"none\"`"
                        .to_owned(),
                );
            }
            (Some(_), Some(_)) => {
                return Err(
                    "`fields.sha256` and `checksum` both give the digest; keep one".to_owned(),
                );
            }
            _ => {}
        }
        if !raw.list.is_empty() && !raw.list.starts_with('/') {
            return Err(format!(
                "`list = \"{}\"` must be a JSON pointer starting with `/`",
                raw.list
            ));
        }
        for url in std::iter::once(&raw.url).chain(raw.base_url.iter()) {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!("`{url}` must be an http(s) URL"));
            }
        }
        Ok(StructuredConfig {
            url: raw.url,
            list: raw.list,
            fields: raw.fields,
            filter: raw.filter,
            pattern: raw.pattern,
            base_url: raw.base_url,
            checksum: raw.checksum,
        })
    }
}

impl StructuredConfig {
    /// Where the digests of the selected entries come from.
    pub fn digest_source(&self) -> DigestSource {
        match &self.checksum {
            Some(setting) => DigestSource::Setting(setting.clone()),
            None => DigestSource::Feed,
        }
    }
}

/// Every entry of `document` (read from `self.url`) that passes the filters and the pattern.
/// A missing list, an entry without a URL or version, or a malformed digest or size is
/// an error; an empty list is [`FeedError::Empty`].
pub fn select(
    config: &StructuredConfig,
    what: &'static str,
    document: &Value,
) -> Result<Vec<Entry>, FeedError> {
    let malformed = |detail: String| FeedError::Malformed {
        what,
        url: config.url.clone(),
        detail,
    };
    let base = urls::base(what, config.base_url.as_deref().unwrap_or(&config.url))?;
    let list = document
        .pointer(&config.list)
        .ok_or_else(|| malformed(format!("it has no `{}`", config.list)))?;
    let items: Vec<&Value> = match list {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![list],
        other => {
            return Err(malformed(format!(
                "`{}` is {}, not a list of releases",
                if config.list.is_empty() {
                    "the document"
                } else {
                    &config.list
                },
                type_name(other)
            )));
        }
    };
    if items.is_empty() {
        return Err(FeedError::Empty {
            what,
            url: config.url.clone(),
        });
    }
    if items.len() > MAX_ENTRIES {
        return Err(FeedError::TooMany {
            what,
            url: config.url.clone(),
            limit: MAX_ENTRIES,
        });
    }
    let mut entries = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        let at = |field: &str| format!("entry {index}: `{field}`");
        if !item.is_object() {
            return Err(malformed(format!(
                "entry {index} is {}, not an object",
                type_name(item)
            )));
        }
        if !config
            .filter
            .iter()
            .all(|(field, expected)| field_value(item, field).is_some_and(|v| same(v, expected)))
        {
            continue;
        }
        // Entries without a download (Alpine's netboot and minirootfs flavors have no `iso`)
        // are not releases of an ISO.
        let Some(link) = text_field(item, &config.fields.url) else {
            tracing::debug!(url = %config.url, entry = index, "entry without a URL; left out");
            continue;
        };
        let url = urls::resolve_link(&base, &link).ok_or_else(|| FeedError::BadLink {
            what,
            url: config.url.clone(),
            value: link.clone(),
            reason: "not an http(s) URL",
        })?;
        let name = urls::file_name(&url).ok_or_else(|| FeedError::BadLink {
            what,
            url: config.url.clone(),
            value: link.clone(),
            reason: "the URL does not end in a file name",
        })?;
        let captured = match &config.pattern {
            Some(pattern) => match pattern.captures(&name) {
                Some(captured) => Some(captured),
                None => continue,
            },
            None => None,
        };
        let version = match captured.as_ref().and_then(|c| c.version.clone()) {
            Some(version) => version,
            None => text_field(item, &config.fields.version).ok_or_else(|| {
                malformed(format!(
                    "{} is missing or not text",
                    at(&config.fields.version)
                ))
            })?,
        };
        let mut entry = Entry::new(version, name, url);
        entry.upstream_arch = captured.and_then(|c| c.arch).or_else(|| {
            config
                .fields
                .arch
                .as_deref()
                .and_then(|f| text_field(item, f))
        });
        if let Some(field) = &config.fields.sha256 {
            // Old entries of real feeds lack digests (Arch's releases before sha256 sums
            // were recorded): such an entry cannot be verified, so it is not a candidate.
            // A digest that is there but malformed is an error.
            let Some(text) = text_field(item, field) else {
                tracing::debug!(url = %config.url, entry = index, "entry without a digest; left out");
                continue;
            };
            let hex = text.strip_prefix("sha256:").unwrap_or(&text).trim();
            entry.sha256 = Some(hex.parse().map_err(|_| FeedError::BadDigest {
                what,
                url: config.url.clone(),
                entry: format!("entry {index} (`{}`)", entry.name),
                text: text.chars().take(80).collect(),
            })?);
        }
        if let Some(field) = &config.fields.size {
            entry.size = match field_value(item, field) {
                None | Some(Value::Null) => None,
                Some(Value::Number(n)) => Some(
                    n.as_u64()
                        .ok_or_else(|| malformed(format!("{} is not a byte count", at(field))))?,
                ),
                Some(Value::String(s)) => Some(
                    s.trim()
                        .parse()
                        .map_err(|_| malformed(format!("{} is not a byte count", at(field))))?,
                ),
                Some(_) => return Err(malformed(format!("{} is not a byte count", at(field)))),
            };
        }
        if let Some(field) = &config.fields.date {
            entry.published_at = match field_value(item, field) {
                Some(Value::String(text)) => crate::published_at(text),
                Some(Value::Number(n)) => n.as_i64().and_then(unix_time),
                _ => None,
            };
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// A field by key, or by JSON pointer when it starts with `/`.
fn field_value<'v>(item: &'v Value, field: &str) -> Option<&'v Value> {
    if field.starts_with('/') {
        item.pointer(field)
    } else {
        item.get(field)
    }
}

/// A field as text: strings as they are, numbers in their JSON spelling.
fn text_field(item: &Value, field: &str) -> Option<String> {
    match field_value(item, field)? {
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// Filter equality: the same JSON value, or a string equal to the other's text (YAML
/// scalars are all strings).
fn same(value: &Value, expected: &Value) -> bool {
    value == expected
        || match (value, expected) {
            (Value::String(text), Value::Number(n)) | (Value::Number(n), Value::String(text)) => {
                *text == n.to_string()
            }
            (Value::String(text), Value::Bool(b)) | (Value::Bool(b), Value::String(text)) => {
                *text == b.to_string()
            }
            _ => false,
        }
}

fn unix_time(seconds: i64) -> Option<String> {
    let moment = time::OffsetDateTime::from_unix_timestamp(seconds).ok()?;
    moment
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The base URL entries resolve against, for callers that need it.
pub fn base_url(config: &StructuredConfig, what: &'static str) -> Result<Url, FeedError> {
    urls::base(what, config.base_url.as_deref().unwrap_or(&config.url))
}

/// Candidates of a structured feed (JSON, YAML): fetches the document at `config.url`
/// (capped at `max_bytes`, conditionally on a kept copy), reads its selected entries with
/// `entries` (the kind's parser plus [`select`]) and turns them into candidates. The one
/// flow every structured kind shares; a kind brings only its parser.
pub async fn structured_candidates(
    config: &StructuredConfig,
    recipe: &repack_core::Recipe,
    feeds: crate::Feeds<'_>,
    what: &'static str,
    max_bytes: u64,
    entries: fn(&StructuredConfig, &str) -> Result<Vec<crate::Entry>, FeedError>,
) -> Result<Vec<repack_core::Candidate>, FeedError> {
    let document = feeds
        .text(&config.url, max_bytes)
        .await
        .map_err(FeedError::fetch(what, &config.url))?;
    let entries = entries(config, &document.body)?;
    let found = crate::into_candidates(
        recipe,
        what,
        &config.url,
        entries,
        &config.digest_source(),
        feeds,
    )
    .await?;
    tracing::info!(recipe = %recipe.id, url = %config.url, candidates = found.len(), "read {what}");
    Ok(found)
}
