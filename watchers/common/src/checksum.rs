//! Where a release's digest comes from when the feed does not carry it: a checksum file the
//! recipe names, next to the ISO. Or, for the rare upstream that publishes none, the
//! recipe's explicit `checksum = "none"`.

use crate::{FeedError, Feeds, text, urls};
use repack_core::Sha256Digest;
use repack_verify::{ChecksumList, parse_checksum_list};
use serde::{Deserialize, Deserializer};
use std::collections::HashMap;
use url::Url;

/// Largest checksum file accepted. Real ones are a few kilobytes.
pub const MAX_CHECKSUM_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The recipe's `checksum` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChecksumSetting {
    /// `checksum = "none"`: the upstream publishes no checksum; candidates are
    /// [`Checksum::Unverified`](repack_core::Checksum::Unverified) and cannot be built.
    None,
    /// A URL template relative to the ISO (`{name}.sha256`, `sha256sums.txt`,
    /// `../SHA256SUMS`): a checksum list naming the ISO.
    File(String),
}

impl<'de> Deserialize<'de> for ChecksumSetting {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text == "none" {
            return Ok(ChecksumSetting::None);
        }
        urls::check_template(&text).map_err(serde::de::Error::custom)?;
        Ok(ChecksumSetting::File(text))
    }
}

/// Parses a fetched checksum list: an HTML page, a malformed list and an empty one are
/// errors. A file holding nothing but one digest (some `.sha256` files) lists `single_name`.
pub fn parse_list(url: &str, body: &str, single_name: &str) -> Result<ChecksumList, FeedError> {
    let body = text::document("checksum list", url, body)?;
    let trimmed = body.trim();
    if trimmed.len() == 64 && trimmed.bytes().all(|b| b.is_ascii_hexdigit()) {
        let line = format!("{trimmed}  {single_name}\n");
        return parse_checksum_list(&line).map_err(|source| FeedError::ChecksumList {
            url: url.to_owned(),
            source,
        });
    }
    let list = parse_checksum_list(body).map_err(|source| FeedError::ChecksumList {
        url: url.to_owned(),
        source,
    })?;
    if list.is_empty() {
        return Err(FeedError::Empty {
            what: "checksum list",
            url: url.to_owned(),
        });
    }
    Ok(list)
}

/// Checksum files fetched during one check, each once (Arch's `sha256sums.txt` serves every
/// ISO of its directory). A file answering 404 is remembered as absent.
pub struct ChecksumFiles<'a> {
    feeds: Feeds<'a>,
    lists: HashMap<String, Option<ChecksumList>>,
}

/// A digest found in a checksum file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub sha256: Sha256Digest,
    /// The checksum file's upstream URL.
    pub list_url: String,
}

impl<'a> ChecksumFiles<'a> {
    pub fn new(feeds: Feeds<'a>) -> Self {
        ChecksumFiles {
            feeds,
            lists: HashMap::new(),
        }
    }

    /// The digest of the ISO `name` (version `version`, at `iso_url`) from the checksum file
    /// `template`. `Ok(None)` when that file does not exist (404: the release is not
    /// complete yet); a file that exists but does not name the ISO is an error.
    pub async fn lookup(
        &mut self,
        iso_url: &Url,
        template: &str,
        name: &str,
        version: &str,
    ) -> Result<Option<Found>, FeedError> {
        let vars = urls::Vars {
            name,
            version,
            list: "",
        };
        let list_url =
            urls::resolve_template(iso_url, template, vars).ok_or_else(|| FeedError::BadLink {
                what: "checksum file",
                url: iso_url.to_string(),
                value: name.to_owned(),
                reason: "the checksum template does not give an http(s) URL for this name",
            })?;
        let key = list_url.to_string();
        if !self.lists.contains_key(&key) {
            let list = self.fetch(&key, name).await?;
            self.lists.insert(key.clone(), list);
        }
        let Some(list) = &self.lists[&key] else {
            return Ok(None);
        };
        let entry = list.get(name).ok_or_else(|| FeedError::NotInChecksumList {
            url: key.clone(),
            name: name.to_owned(),
        })?;
        Ok(Some(Found {
            sha256: entry.sha256,
            list_url: key,
        }))
    }

    async fn fetch(&self, url: &str, name: &str) -> Result<Option<ChecksumList>, FeedError> {
        match self.feeds.text(url, MAX_CHECKSUM_FILE_BYTES).await {
            Ok(file) => parse_list(url, &file.body, name).map(Some),
            Err(error) if error.status() == Some(404) => {
                tracing::info!(%url, "checksum file not published (404); skipping the release");
                Ok(None)
            }
            Err(source) => Err(FeedError::Fetch {
                what: "checksum file",
                url: url.to_owned(),
                source,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_digest_file_names_the_iso() {
        let digest = "a".repeat(64);
        let list = parse_list("u", &format!("{digest}\n"), "x.iso").unwrap();
        assert_eq!(list.get("x.iso").unwrap().sha256.to_hex(), digest);
    }

    #[test]
    fn setting_none_is_explicit_and_templates_are_checked() {
        #[derive(Deserialize)]
        struct T {
            checksum: ChecksumSetting,
        }
        let parse = |text: &str| toml::from_str::<T>(text).map(|t| t.checksum);
        assert_eq!(
            parse(r#"checksum = "none""#).unwrap(),
            ChecksumSetting::None
        );
        assert_eq!(
            parse(r#"checksum = "{name}.sha256""#).unwrap(),
            ChecksumSetting::File("{name}.sha256".to_owned())
        );
        assert!(parse(r#"checksum = "{file}.sha256""#).is_err());
    }
}
