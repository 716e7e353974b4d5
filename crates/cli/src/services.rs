//! The one composition root: the configuration turned into the services every entry point
//! uses — catalogue, fetcher, publisher, recipe lookup, pinned-key directories — built once
//! here, never by hand in a subcommand. `run` and `menu` take the pipeline from here, and
//! `run` goes through the job queue on the catalogue's database, so the foreground and the
//! scheduled worker share one path (DESIGN.md, "Composition").

use crate::config::{Config, GitHubSettings, PublisherKind};
use anyhow::{Context, Result, bail};
use repack_catalog::Catalog;
use repack_core::Recipe;
use repack_fetch::{FetchConfig, Fetcher, Reporter};
use repack_pipeline::{BuildSettings, Outcome, Pipeline, PipelineError};
use repack_publish::{
    AnyPublisher, AppCredentials, Credentials, DirectoryPublisher, GitHubConfig, GitHubPublisher,
    Token,
};
use repack_queue::{Job, JobContext, JobError, JobId, Queue};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Everything a build needs, made from the configuration.
pub struct Services {
    pub pipeline: Arc<Pipeline<AnyPublisher>>,
    pub recipe_dirs: Vec<PathBuf>,
}

impl Services {
    /// Opens the catalogue (creating it when needed) and sets up the fetcher and publisher.
    pub async fn open(config: &Config) -> Result<Services> {
        if let Some(source) = &config.source {
            tracing::info!(config = %source.display(), "configuration loaded");
        }
        let pipeline = Pipeline {
            fetcher: fetcher(config)?,
            catalog: open_catalog(config).await?,
            publisher: publisher(config)?,
            settings: BuildSettings {
                part_size: config.part_size,
                public_url: config.public_url.clone(),
                reuse_parts: config.reuse_parts,
                key_dirs: config.key_dirs.clone(),
                staging_dir: config.staging_dir.clone(),
            },
        };
        Ok(Services {
            pipeline: Arc::new(pipeline),
            recipe_dirs: config.recipe_dirs.clone(),
        })
    }

    /// The job queue on the catalogue's database.
    pub fn queue(&self) -> Queue {
        Queue::new(self.pipeline.catalog.database().clone())
    }

    /// Closes the catalogue's connections.
    pub async fn close(self) {
        self.pipeline.catalog.close().await;
    }
}

/// Every recipe file of the recipe directories, by id (`<id>.toml`); an id in several
/// directories is taken from the first, as `repack run` finds it. Directories that do not
/// exist are skipped; one that cannot be listed is an error naming it.
pub fn recipe_files(dirs: &[PathBuf]) -> Result<std::collections::BTreeMap<String, PathBuf>> {
    let mut files = std::collections::BTreeMap::new();
    for dir in dirs.iter().filter(|dir| dir.is_dir()) {
        let listing = || format!("cannot list the recipe directory {}", dir.display());
        for entry in std::fs::read_dir(dir).with_context(listing)? {
            let path = entry.with_context(listing)?.path();
            if path.extension().is_none_or(|ext| ext != "toml") {
                continue;
            }
            if let Some(id) = path.file_stem().and_then(|stem| stem.to_str()) {
                files.entry(id.to_owned()).or_insert(path);
            }
        }
    }
    Ok(files)
}

/// Every recipe of the recipe directories that loads, sorted by id; one that does not load is
/// logged with its error and left out (the others still run).
pub fn recipes(config: &Config) -> Result<Vec<Recipe>> {
    let mut recipes = Vec::new();
    for id in recipe_files(&config.recipe_dirs)?.into_keys() {
        match Recipe::find(&id, &config.recipe_dirs) {
            Ok(recipe) => recipes.push(recipe),
            Err(error) => {
                tracing::error!(recipe = %id, %error, "recipe left out: it does not load")
            }
        }
    }
    Ok(recipes)
}

/// Opens (creating when needed) the catalogue the configuration names.
pub async fn open_catalog(config: &Config) -> Result<Catalog> {
    if config.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                config.data_dir.display()
            )
        })?;
    }
    Catalog::open(&config.database_url)
        .await
        .with_context(|| format!("cannot open the catalogue {}", config.database_url))
}

/// The publisher `publisher = "directory" | "github"` names. Menus stay in `output_dir`
/// either way (`repack serve` serves them).
pub fn publisher(config: &Config) -> Result<AnyPublisher> {
    Ok(match config.publisher {
        PublisherKind::Directory => {
            AnyPublisher::Directory(DirectoryPublisher::new(&config.output_dir))
        }
        PublisherKind::GitHub => AnyPublisher::GitHub(Box::new(github_publisher(
            &config.github,
            Some(config.output_dir.clone()),
            &|name| std::env::var(name).ok(),
        )?)),
    })
}

/// The GitHub publisher for `settings`, its token from `GITHUB_TOKEN` or the token file.
pub fn github_publisher(
    settings: &GitHubSettings,
    menu_dir: Option<PathBuf>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<GitHubPublisher> {
    let Some(repo) = settings.repo.clone() else {
        bail!("no GitHub repository: set `repo = \"owner/name\"` in [github] or pass --repo");
    };
    let config = GitHubConfig {
        repo,
        api_url: settings.api_url.clone(),
        uploads_url: settings.uploads_url.clone(),
        credentials: github_credentials(settings, env)?,
        keep: settings.keep,
        retry: repack_publish::RetryPolicy {
            budget: settings.retry_budget,
            ..repack_publish::RetryPolicy::default()
        },
        menu_dir,
    };
    GitHubPublisher::new(config).context("cannot set up the GitHub publisher")
}

/// A GitHub App installation when `[github] app_id` is set, else a token.
fn github_credentials(
    settings: &GitHubSettings,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Credentials> {
    let Some(app) = &settings.app else {
        return Ok(github_token(settings, env)?.into());
    };
    let pem = std::fs::read_to_string(&app.private_key_file).with_context(|| {
        format!(
            "cannot read the GitHub App private key {}",
            app.private_key_file.display()
        )
    })?;
    let credentials = AppCredentials::from_pem(app.app_id, app.installation_id, &pem)
        .with_context(|| format!("in {}", app.private_key_file.display()))?;
    Ok(Credentials::App(credentials))
}

/// `GITHUB_TOKEN`, else the content of `[github] token_file`; the error never shows it.
fn github_token(settings: &GitHubSettings, env: &dyn Fn(&str) -> Option<String>) -> Result<Token> {
    use crate::env_vars::GITHUB_TOKEN;
    if let Some(token) = env(GITHUB_TOKEN).map(Token::new).filter(|t| !t.is_empty()) {
        return Ok(token);
    }
    let Some(path) = &settings.token_file else {
        bail!("no GitHub token: set {GITHUB_TOKEN} or `token_file` in [github]");
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the GitHub token file {}", path.display()))?;
    let token = Token::new(text);
    if token.is_empty() {
        bail!("the GitHub token file {} is empty", path.display());
    }
    Ok(token)
}

/// The shared HTTP client, with the configured mirrors and retries.
pub fn fetcher(config: &Config) -> Result<Fetcher> {
    let mut fetch_config = FetchConfig::new(config.cache_dir());
    fetch_config.rewrites = config.mirrors.clone();
    fetch_config.retries = config.fetch_retries;
    Fetcher::new(fetch_config).context("cannot set up the HTTP client")
}

/// Outcomes of the builds this process ran, by job id.
type Outcomes = Arc<Mutex<HashMap<JobId, Result<Outcome, PipelineError>>>>;

/// The build job: one `repack-queue` job of kind `build` runs the pipeline for its recipe.
/// Each run's outcome is kept by job id for whoever enqueued it in this process (clones
/// share it).
#[derive(Clone)]
pub struct BuildJobs {
    pipeline: Arc<Pipeline<AnyPublisher>>,
    recipe_dirs: Vec<PathBuf>,
    reporter: Arc<dyn Reporter>,
    outcomes: Outcomes,
}

impl BuildJobs {
    pub fn new(services: &Services, reporter: Arc<dyn Reporter>) -> BuildJobs {
        BuildJobs {
            pipeline: services.pipeline.clone(),
            recipe_dirs: services.recipe_dirs.clone(),
            reporter,
            outcomes: Outcomes::default(),
        }
    }

    /// The outcome of job `id`, when this process ran it.
    pub fn take_outcome(&self, id: JobId) -> Option<Result<Outcome, PipelineError>> {
        self.outcomes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&id)
    }
}

impl Job for BuildJobs {
    async fn run(&self, ctx: JobContext) -> Result<(), JobError> {
        let recipe = Recipe::find(ctx.recipe(), &self.recipe_dirs)
            .map_err(|error| JobError::from_error("recipe", &error))?;
        let result = self.pipeline.run(&recipe, self.reporter.as_ref()).await;
        let verdict = match &result {
            Ok(_) => Ok(()),
            Err(error) => Err(JobError::from_error(error.kind(), error)),
        };
        self.outcomes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(ctx.id(), result);
        verdict
    }
}
