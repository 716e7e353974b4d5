//! `endpoints.yml` in the netboot.xyz format: one entry per current build, keyed by item
//! name, with `path`, `files`, `os`, `version`, `arch` and `kernel`.
//!
//! The document is always written whole from the entries it is handed. netboot.xyz builds
//! merged templates into this file, and a YAML merge unions lists, so files removed from a
//! release stayed listed forever and mirrors 404ed (incumbent failure 5). Here every `files`
//! list is exactly the release's stored names: replaced, never merged.

use crate::entry::{MenuEntry, MenuError};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize)]
struct Document<'a> {
    endpoints: BTreeMap<String, Endpoint<'a>>,
}

#[derive(Serialize)]
struct Endpoint<'a> {
    /// The release directory relative to the download base, with leading and trailing `/`
    /// as netboot.xyz writes it.
    path: String,
    /// Every stored object, split parts included.
    files: &'a [String],
    os: &'a str,
    version: &'a str,
    arch: &'a str,
    /// The endpoint that supplies kernel and initrd: always this one.
    kernel: String,
}

/// Renders `endpoints.yml` for `entries`; a later entry with the same recipe and arch as an
/// earlier one is left out. An empty list renders `endpoints: {}`.
pub fn render_endpoints_yml(entries: &[MenuEntry]) -> Result<String, MenuError> {
    let mut endpoints = BTreeMap::new();
    for entry in entries {
        let name = entry.item_name();
        endpoints.entry(name.clone()).or_insert_with(|| Endpoint {
            path: format!("/{}/", entry.path()),
            files: entry.files(),
            os: entry.os(),
            version: entry.version(),
            arch: entry.arch().as_str(),
            kernel: name,
        });
    }
    let mut text = String::from(
        "# repack: current builds in netboot.xyz endpoints format.\n\
         # Generated from the catalogue; every list is complete (replace, never merge).\n",
    );
    text.push_str(
        &serde_saphyr::to_string(&Document { endpoints }).map_err(|error| MenuError::Yaml {
            message: error.to_string(),
        })?,
    );
    Ok(text)
}
