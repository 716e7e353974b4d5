//! Retention: which published releases of a recipe go, given the newest N to keep and the
//! releases that must stay whatever their age.
//!
//! Only releases this publisher made for the recipe count (the release body names the
//! recipe); drafts are never touched (a draft may be another run's resumable attempt), and
//! neither is a release whose tag is protected (the catalogue's current builds), nor any
//! release that a release which stays points into (the parts it reuses), however old.

use std::collections::{BTreeMap, BTreeSet};

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
/// (by publication time, then id), except those whose tag is in `protected` and those a
/// staying release points into (`references`: tag to the tags its manifest points into;
/// followed to the end, so a chain of reuse stays whole).
pub fn releases_to_delete<'a>(
    releases: &'a [ReleaseInfo],
    recipe: &str,
    keep: usize,
    protected: &BTreeSet<String>,
    references: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<&'a ReleaseInfo> {
    let mut published: Vec<&ReleaseInfo> = releases
        .iter()
        .filter(|release| !release.draft && release.recipe.as_deref() == Some(recipe))
        .collect();
    published
        .sort_by(|a, b| (b.published_at.as_deref(), b.id).cmp(&(a.published_at.as_deref(), a.id)));
    let mut staying: BTreeSet<&str> = protected.iter().map(String::as_str).collect();
    staying.extend(
        published
            .iter()
            .take(keep)
            .map(|release| release.tag.as_str()),
    );
    let mut unfollowed: Vec<&str> = staying.iter().copied().collect();
    while let Some(tag) = unfollowed.pop() {
        for target in references.get(tag).into_iter().flatten() {
            if staying.insert(target.as_str()) {
                unfollowed.push(target.as_str());
            }
        }
    }
    published
        .into_iter()
        .skip(keep)
        .filter(|release| !staying.contains(release.tag.as_str()))
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
        let tags: Vec<&str> = releases_to_delete(&releases, "deb", 2, &protected, &BTreeMap::new())
            .into_iter()
            .map(|release| release.tag.as_str())
            .collect();
        assert_eq!(tags, ["deb-2"]);
    }

    #[test]
    fn a_staying_release_keeps_what_it_points_into_and_nothing_else_does() {
        // deb-5 (newest, kept) reuses parts of deb-2, which reuses parts of deb-1; deb-3 is
        // beyond the newest one and goes, and so does deb-4, which only deb-3 pointed into.
        let releases: Vec<ReleaseInfo> = (1..=5)
            .map(|id| release(id, "deb", id as u32, false))
            .collect();
        let references = BTreeMap::from([
            ("deb-5".to_owned(), BTreeSet::from(["deb-2".to_owned()])),
            ("deb-2".to_owned(), BTreeSet::from(["deb-1".to_owned()])),
            ("deb-3".to_owned(), BTreeSet::from(["deb-4".to_owned()])),
        ]);
        let tags: Vec<&str> =
            releases_to_delete(&releases, "deb", 1, &BTreeSet::new(), &references)
                .into_iter()
                .map(|release| release.tag.as_str())
                .collect();
        assert_eq!(tags, ["deb-4", "deb-3"]);
        // A protected (current) release keeps what it points into as well.
        let protected = BTreeSet::from(["deb-3".to_owned()]);
        let tags: Vec<&str> = releases_to_delete(&releases, "deb", 1, &protected, &references)
            .into_iter()
            .map(|release| release.tag.as_str())
            .collect();
        assert!(tags.is_empty(), "{tags:?}");
    }
}
