//! Retention: which published releases of a recipe go, given the newest N to keep and the
//! releases that must stay whatever their age.
//!
//! Only releases this publisher made for the recipe count (the release body names the
//! recipe); drafts are never touched (a draft may be another run's resumable attempt), and
//! neither is a release whose tag is protected: the catalogue's current builds and any
//! release another manifest points into.

use std::collections::BTreeSet;

/// What retention looks at in one release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseInfo {
    pub id: u64,
    pub tag: String,
    pub draft: bool,
    /// RFC 3339, as the API gives it (sorts as text); `None` for a draft.
    pub published_at: Option<String>,
    /// The recipe the release body names, when repack made it.
    pub recipe: Option<String>,
}

/// The releases of `recipe` to delete: every published one beyond the newest `keep`
/// (by publication time, then id), except those whose tag is in `protected`.
pub fn releases_to_delete<'a>(
    releases: &'a [ReleaseInfo],
    recipe: &str,
    keep: usize,
    protected: &BTreeSet<String>,
) -> Vec<&'a ReleaseInfo> {
    let mut published: Vec<&ReleaseInfo> = releases
        .iter()
        .filter(|release| !release.draft && release.recipe.as_deref() == Some(recipe))
        .collect();
    published
        .sort_by(|a, b| (b.published_at.as_deref(), b.id).cmp(&(a.published_at.as_deref(), a.id)));
    published
        .into_iter()
        .skip(keep)
        .filter(|release| !protected.contains(&release.tag))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(id: u64, recipe: &str, day: u32, draft: bool) -> ReleaseInfo {
        ReleaseInfo {
            id,
            tag: format!("{recipe}-{id}"),
            draft,
            published_at: (!draft).then(|| format!("2026-01-{day:02}T00:00:00Z")),
            recipe: Some(recipe.to_owned()),
        }
    }

    #[test]
    fn keeps_the_newest_and_the_protected_and_ignores_others() {
        let releases = vec![
            release(1, "deb", 1, false),
            release(2, "deb", 2, false),
            release(3, "deb", 3, false),
            release(4, "deb", 4, false),
            release(5, "deb", 0, true),
            release(6, "ubu", 1, false),
            ReleaseInfo {
                recipe: None,
                ..release(7, "deb", 1, false)
            },
        ];
        let protected = BTreeSet::from(["deb-1".to_owned()]);
        let tags: Vec<&str> = releases_to_delete(&releases, "deb", 2, &protected)
            .into_iter()
            .map(|release| release.tag.as_str())
            .collect();
        assert_eq!(tags, ["deb-2"]);
    }
}
