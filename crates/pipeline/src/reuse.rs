//! Reuse across releases: which parts earlier releases of a recipe published that a new
//! build may point at instead of storing the same bytes again, and, the other way round,
//! which releases retention must keep because a kept release points into them.
//!
//! A reused part is named by its full URL, `<public_url>/<location>/<part name>`: the URL a
//! boot hook fetches (the baked rootfs list carries it) and the one retention maps back to
//! the release that holds it. Reuse is skipped, never failed: when the public URL is not a
//! plain http(s) URL (the iPXE `${...}` settings a menu may use mean nothing to a booting
//! initrd), when the catalogue or the publisher cannot be read, every part is stored again.

use crate::Pipeline;
use repack_assemble::PublishedParts;
use repack_core::{FileRole, Recipe};
use repack_publish::{Protection, PublishedPart, Publisher};
use std::collections::{BTreeMap, BTreeSet};

/// How many earlier builds of a recipe are searched for parts to reuse (newest first).
const EARLIER_BUILDS_SEARCHED: usize = 16;

impl<P: Publisher> Pipeline<P> {
    /// The root-image parts of `recipe`'s earlier builds (same arch) that the publisher still
    /// serves unchanged, each with the URL a boot hook fetches it from.
    pub(crate) async fn published_parts(&self, recipe: &Recipe) -> PublishedParts {
        let mut published = PublishedParts::new();
        if !self.settings.reuse_parts {
            return published;
        }
        let Some(base) = reuse_base(&self.settings.public_url) else {
            tracing::info!(public_url = %self.settings.public_url, "parts are not reused: the public URL is not a plain http(s) URL a booting initrd can fetch from");
            return published;
        };
        let builds = match self.catalog.builds(&recipe.id).await {
            Ok(builds) => builds,
            Err(error) => {
                tracing::warn!(recipe = %recipe.id, %error, "cannot list earlier builds; every part is stored again");
                return published;
            }
        };
        let mut candidates = Vec::new();
        for build in builds
            .iter()
            .filter(|build| build.arch == recipe.arch)
            .take(EARLIER_BUILDS_SEARCHED)
        {
            for file in build.manifest.files_with_role(FileRole::Rootfs) {
                for part in file.parts.iter().filter(|part| part.is_stored_here()) {
                    let url = part_url(base, &build.location, &part.name);
                    if repack_boot::check_part_url(&url).is_ok() {
                        candidates.push((
                            PublishedPart {
                                location: build.location.clone(),
                                part: part.clone(),
                            },
                            url,
                        ));
                    }
                }
            }
        }
        if candidates.is_empty() {
            return published;
        }
        let parts: Vec<PublishedPart> = candidates.iter().map(|(part, _)| part.clone()).collect();
        match self.publisher.still_published(&parts).await {
            Ok(held) => {
                for ((candidate, url), held) in candidates.into_iter().zip(held) {
                    if held {
                        published.insert(candidate.part.sha256, candidate.part.size, url);
                    }
                }
            }
            Err(error) => {
                tracing::warn!(recipe = %recipe.id, %error, "cannot check the earlier releases; every part is stored again")
            }
        }
        tracing::info!(recipe = %recipe.id, parts = published.len(), "published parts a build may point at");
        published
    }

    /// What retention must keep: the current builds of every recipe, and every release a
    /// recorded build of `recipe` points into (by the URLs of the parts it reuses).
    pub(crate) async fn protection(
        &self,
        recipe: &str,
    ) -> Result<Protection, repack_catalog::CatalogError> {
        let locations = self
            .catalog
            .current_builds()
            .await?
            .into_iter()
            .map(|build| build.location)
            .collect();
        let mut references: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for build in self.catalog.builds(recipe).await? {
            for url in build.manifest.borrowed_urls() {
                match holder_location(&self.settings.public_url, url) {
                    Some(holder) => {
                        references
                            .entry(build.location.clone())
                            .or_default()
                            .insert(holder.to_owned());
                    }
                    None => {
                        tracing::warn!(%recipe, location = %build.location, %url, "a reused part's URL is not under the public URL; retention cannot protect the release holding it")
                    }
                }
            }
        }
        Ok(Protection {
            locations,
            references,
        })
    }
}

/// The public URL without its trailing `/`, when a booting initrd can use it as it is.
fn reuse_base(public_url: &str) -> Option<&str> {
    let base = public_url.trim_end_matches('/');
    let host = base
        .strip_prefix("http://")
        .or_else(|| base.strip_prefix("https://"))?;
    (!host.is_empty() && !base.contains("${")).then_some(base)
}

/// `<base>/<location>/<name>`.
fn part_url(base: &str, location: &str, name: &str) -> String {
    format!("{base}/{}/{name}", location.trim_matches('/'))
}

/// The location of the release that holds the part at `url` (the inverse of [`part_url`]).
fn holder_location<'a>(public_url: &str, url: &'a str) -> Option<&'a str> {
    let base = reuse_base(public_url)?;
    let (location, name) = url
        .strip_prefix(base)?
        .strip_prefix('/')?
        .rsplit_once('/')?;
    (!location.is_empty() && !name.is_empty()).then_some(location)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_public_urls_are_used_for_reuse() {
        assert_eq!(
            reuse_base("https://github.com/acme/netboot/"),
            Some("https://github.com/acme/netboot")
        );
        assert_eq!(reuse_base("http://10.0.2.100"), Some("http://10.0.2.100"));
        assert_eq!(reuse_base("http://${next-server}/repack"), None);
        assert_eq!(reuse_base("/srv/repack"), None);
        assert_eq!(reuse_base("http://"), None);
    }

    #[test]
    fn a_part_url_maps_back_to_the_release_holding_it() {
        let base = "https://github.com/acme/netboot/";
        let url = part_url(
            reuse_base(base).unwrap(),
            "releases/download/debian-live-12.10.0-0a1b2c3d",
            "filesystem.squashfs.part2",
        );
        assert_eq!(
            url,
            "https://github.com/acme/netboot/releases/download/debian-live-12.10.0-0a1b2c3d/filesystem.squashfs.part2"
        );
        assert_eq!(
            holder_location(base, &url),
            Some("releases/download/debian-live-12.10.0-0a1b2c3d")
        );
        assert_eq!(holder_location("https://elsewhere.example", &url), None);
        assert_eq!(
            holder_location(base, "https://github.com/acme/netboot/x"),
            None
        );
    }
}
