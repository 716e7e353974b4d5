//! The registry of feed kinds: a recipe's raw `[watch]` table parsed into one kind's typed
//! settings plus the options every kind shares ([`Policy`]).
//!
//! A new kind is one crate exporting a `Config` (with `deny_unknown_fields`) and a
//! `candidates` function, one variant of [`KindConfig`], one arm in [`WatchConfig::parse`]
//! and one in the [`Watcher`](crate::Watcher) implementation. Keys shared by every kind
//! ([`SHARED_KEYS`]) are taken out of the table first, so each kind's `Config` can refuse
//! everything it does not know. One shared key goes back to a kind: `checksums` gets the
//! `signature` template, because a version directory whose list is not signed yet is not
//! ready and its walk falls back to the directory before.

use crate::WatchError;
use crate::policy::Policy;
use repack_core::Recipe;
use serde::de::DeserializeOwned;

/// The keys of `[watch]` every kind accepts; all others belong to the kind.
pub const SHARED_KEYS: [&str; 7] = [
    "kind",
    "include",
    "exclude",
    "prerelease",
    "arch_names",
    "signature",
    "keys",
];

/// The kinds, as spelled in `kind = "..."`.
pub const KINDS: [&str; 5] = ["checksums", "html-index", "json", "yaml", "github"];

/// One kind's typed settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum KindConfig {
    Checksums(repack_watch_checksums::Config),
    HtmlIndex(repack_watch_html_index::Config),
    Json(repack_watch_json::Config),
    Yaml(repack_watch_yaml::Config),
    Github(repack_watch_github::Config),
}

impl KindConfig {
    /// The kind's name as recipes spell it.
    pub fn name(&self) -> &'static str {
        match self {
            KindConfig::Checksums(_) => "checksums",
            KindConfig::HtmlIndex(_) => "html-index",
            KindConfig::Json(_) => "json",
            KindConfig::Yaml(_) => "yaml",
            KindConfig::Github(_) => "github",
        }
    }

    /// The feed's main URL, for messages.
    pub fn url(&self) -> String {
        match self {
            KindConfig::Checksums(config) => config.url.clone(),
            KindConfig::HtmlIndex(config) => config.url.clone(),
            KindConfig::Json(config) | KindConfig::Yaml(config) => config.url.clone(),
            KindConfig::Github(config) => config.releases_url(),
        }
    }
}

/// A recipe's parsed `[watch]` table.
#[derive(Debug, Clone)]
pub struct WatchConfig {
    pub kind: KindConfig,
    pub policy: Policy,
}

impl WatchConfig {
    /// Parses and checks the recipe's `[watch]` table. Errors name the recipe, its file and
    /// the key: an unknown kind lists the known ones, an unknown key the accepted ones.
    pub fn parse(recipe: &Recipe) -> Result<WatchConfig, WatchError> {
        let error = |detail: String| WatchError::Config {
            recipe: recipe.id.clone(),
            detail,
        };
        let table = recipe.watch.table();
        let Some(kind) = recipe.watch.kind() else {
            return Err(error(
                "needs `kind`, one of: ".to_owned() + &KINDS.join(", "),
            ));
        };
        let mut shared = toml::Table::new();
        let mut own = toml::Table::new();
        for (key, value) in table {
            if key == "kind" {
                continue;
            }
            if SHARED_KEYS.contains(&key.as_str()) {
                shared.insert(key.clone(), value.clone());
            } else {
                own.insert(key.clone(), value.clone());
            }
        }
        let policy: Policy = shared
            .try_into()
            .map_err(|e: toml::de::Error| error(message(&e)))?;
        let typed = |what: &str| {
            let what = what.to_owned();
            move |e: toml::de::Error| error(format!("of kind `{what}`: {}", message(&e)))
        };
        let kind = match kind {
            "checksums" => {
                let mut config: repack_watch_checksums::Config =
                    parse_kind(own).map_err(typed(kind))?;
                // A directory whose list is not signed yet is not ready (the kind's walk).
                config.signature.clone_from(&policy.signature);
                KindConfig::Checksums(config)
            }
            "html-index" => KindConfig::HtmlIndex(parse_kind(own).map_err(typed(kind))?),
            "json" => KindConfig::Json(parse_kind(own).map_err(typed(kind))?),
            "yaml" => KindConfig::Yaml(parse_kind(own).map_err(typed(kind))?),
            "github" => KindConfig::Github(parse_kind(own).map_err(typed(kind))?),
            other => {
                return Err(error(format!(
                    "unknown kind `{other}`; known kinds: {}",
                    KINDS.join(", ")
                )));
            }
        };
        Ok(WatchConfig { kind, policy })
    }
}

fn parse_kind<T: DeserializeOwned>(table: toml::Table) -> Result<T, toml::de::Error> {
    table.try_into()
}

/// A deserialisation error as one line (toml's messages may end in a newline).
fn message(error: &toml::de::Error) -> String {
    error.to_string().trim().replace('\n', " ")
}
