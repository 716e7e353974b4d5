//! Which recipes a forge's repository triggers: a recipe watching a GitHub repository's
//! releases (`[watch] kind = "github"`, `repo = "owner/name"`) is triggered by that
//! repository's webhooks, and any recipe can name more in its `webhooks` list
//! (`"gitlab:archlinux/releng"`, `"forgejo:fedora/fedora-kiwi-descriptions"`,
//! `"github:owner/name"`). Repository paths compare without regard to case, as the forges
//! treat them.

use crate::webhooks::Forge;
use repack_core::Recipe;
use std::collections::BTreeMap;

/// Repository → recipe ids.
#[derive(Debug, Clone, Default)]
pub struct Triggers {
    recipes: BTreeMap<(Forge, String), Vec<String>>,
}

/// A `webhooks` entry that is not `<forge>:<repository path>`.
#[derive(Debug, thiserror::Error)]
#[error("recipe {recipe}: webhook source `{entry}`: {reason}")]
pub struct TriggerError {
    pub recipe: String,
    pub entry: String,
    pub reason: &'static str,
}

impl Triggers {
    /// The triggers of `recipes`.
    pub fn from_recipes(recipes: &[Recipe]) -> Result<Triggers, TriggerError> {
        let mut triggers = Triggers::default();
        for recipe in recipes {
            if recipe.watch.kind() == Some("github")
                && let Some(repo) = recipe.watch.table().get("repo").and_then(|v| v.as_str())
            {
                triggers.add(Forge::GitHub, repo, &recipe.id);
            }
            for entry in &recipe.webhooks {
                let error = |reason| TriggerError {
                    recipe: recipe.id.clone(),
                    entry: entry.clone(),
                    reason,
                };
                let (forge, path) = entry.split_once(':').ok_or_else(|| {
                    error("expected <forge>:<repository>, e.g. gitlab:group/project")
                })?;
                let forge = Forge::from_name(forge)
                    .ok_or_else(|| error("the forge must be github, gitlab or forgejo"))?;
                if path.is_empty() || !path.contains('/') || path.starts_with('/') {
                    return Err(error("the repository must be a path like owner/name"));
                }
                triggers.add(forge, path, &recipe.id);
            }
        }
        Ok(triggers)
    }

    /// Makes `repository` on `forge` trigger `recipe`.
    pub fn add(&mut self, forge: Forge, repository: &str, recipe: &str) {
        let recipes = self
            .recipes
            .entry((forge, repository.to_ascii_lowercase()))
            .or_default();
        if !recipes.iter().any(|known| known == recipe) {
            recipes.push(recipe.to_owned());
        }
    }

    /// The recipes `repository` on `forge` triggers (none when no recipe watches it).
    pub fn recipes_for(&self, forge: Forge, repository: &str) -> &[String] {
        self.recipes
            .get(&(forge, repository.to_ascii_lowercase()))
            .map_or(&[], Vec::as_slice)
    }

    /// How many repositories trigger something.
    pub fn len(&self) -> usize {
        self.recipes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.recipes.is_empty()
    }
}
