//! `repack.toml` and its environment overrides.
//!
//! ```toml
//! data_dir = "/var/lib/repack"                    # cache + default SQLite catalogue
//! database_url = "sqlite:///var/lib/repack/catalog.db"
//! output_dir = "/srv/repack"                      # published releases and menu.ipxe
//! public_url = "http://boot.example.org/repack"   # how booting machines reach the releases
//!                                                 # (default: http://${next-server}; for
//!                                                 # "github" the repository's web URL)
//! part_size = 2097151999                          # split files above this size
//! recipe_dirs = ["recipes", "/etc/repack/recipes"]
//! key_dirs = ["keys", "/etc/repack/keys"]          # pinned keys, <name>-<FINGERPRINT>.asc
//! fetch_retries = 5                               # resumed retries of a broken download
//! publisher = "directory"                         # or "github": where releases go
//! staging_dir = "/var/lib/repack/staging"         # default: <output_dir>/.staging for
//!                                                 # "directory", <data_dir>/staging for "github"
//! reuse_parts = true                              # a root-image part an earlier release of
//!                                                 # the recipe published is pointed at by URL,
//!                                                 # not stored again (default: on for "github";
//!                                                 # off for "directory", whose release
//!                                                 # directories then stay self-contained)
//!
//! [github]                                        # publisher = "github"
//! repo = "owner/name"
//! api_url = "https://api.github.com"              # GitHub Enterprise: https://HOST/api/v3
//! uploads_url = "https://uploads.github.com"      # GitHub Enterprise: https://HOST/api/uploads
//! token_file = "/run/secrets/github-token"        # or GITHUB_TOKEN
//! keep = 3                                        # published releases kept per recipe
//! retry_budget_secs = 600                         # how long 5xx/resets are retried per run
//! app_id = 123456                                 # or a GitHub App instead of a token:
//! installation_id = 7890123                       #   its installation on the repo's owner
//! private_key_file = "/run/secrets/github-app.pem" #  and its private key (PEM)
//!
//! [[mirror]]                                      # fetch from a local mirror instead
//! from = "https://cdimage.debian.org/"
//! to = "http://mirror.lan/debian-cd/"
//!
//! [server]                                        # repack serve
//! listen = "0.0.0.0:8080"
//! stale_after_hours = 48                          # no good check for this long: stale
//! github_secret_file = "/run/secrets/github-webhook"   # or REPACK_GITHUB_WEBHOOK_SECRET
//! gitlab_token_file = "/run/secrets/gitlab-webhook"    # or REPACK_GITLAB_WEBHOOK_TOKEN
//! forgejo_secret_file = "/run/secrets/forgejo-webhook" # or REPACK_FORGEJO_WEBHOOK_SECRET
//!
//! [queue]                                         # repack worker, repack run
//! keep_days = 30                                  # finished jobs, webhook deliveries; 0 = forever
//! ```
//! Webhook secrets and the GitHub token are never written in this file itself: only the path
//! of a file holding one, or the environment variable.
//! Every key is optional; unknown keys are errors. Environment variables (see
//! [`crate::env_vars`]) override the file.

use crate::env_vars;
use anyhow::{Context, Result, bail};
use repack_core::MirrorRewrite;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The file as written; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    output_dir: Option<PathBuf>,
    public_url: Option<String>,
    part_size: Option<u64>,
    recipe_dirs: Option<Vec<PathBuf>>,
    key_dirs: Option<Vec<PathBuf>>,
    fetch_retries: Option<u32>,
    #[serde(default)]
    mirror: Vec<MirrorRewrite>,
    #[serde(default)]
    server: ServerFile,
    publisher: Option<PublisherKind>,
    staging_dir: Option<PathBuf>,
    reuse_parts: Option<bool>,
    github: Option<GitHubFile>,
    #[serde(default)]
    queue: QueueFile,
}

/// The `[queue]` table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueFile {
    keep_days: Option<u32>,
}

/// `publisher = "directory" | "github"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PublisherKind {
    /// `<output_dir>/<recipe>/<tag>/` on a local filesystem.
    #[default]
    Directory,
    /// Releases of a GitHub repository (`[github]`).
    GitHub,
}

/// The `[github]` table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GitHubFile {
    repo: Option<String>,
    api_url: Option<String>,
    uploads_url: Option<String>,
    token_file: Option<PathBuf>,
    keep: Option<usize>,
    retry_budget_secs: Option<u64>,
    app_id: Option<u64>,
    installation_id: Option<u64>,
    private_key_file: Option<PathBuf>,
}

/// The REST API of github.com; `[github] api_url` replaces it for GitHub Enterprise.
pub const DEFAULT_GITHUB_API_URL: &str = "https://api.github.com";

/// `public_url` when none is set and releases are not on GitHub: the server iPXE booted from.
const DEFAULT_PUBLIC_URL: &str = "http://${next-server}";

/// The web address that goes with a GitHub API URL: github.com for the public API,
/// `https://HOST` for GitHub Enterprise's `https://HOST/api/v3`; `None` for anything else.
fn github_web_url(api_url: &str) -> Option<String> {
    let api_url = api_url.trim_end_matches('/');
    if api_url == DEFAULT_GITHUB_API_URL {
        return Some("https://github.com".to_owned());
    }
    api_url.strip_suffix("/api/v3").map(str::to_owned)
}
/// The upload endpoint of github.com; `[github] uploads_url` replaces it.
pub const DEFAULT_GITHUB_UPLOADS_URL: &str = "https://uploads.github.com";

/// Settings of the GitHub publisher (the token itself is read when the publisher is made,
/// from `GITHUB_TOKEN` or `token_file`, and never kept here).
#[derive(Debug, Clone)]
pub struct GitHubSettings {
    /// `owner/name`; required when publishing to GitHub.
    pub repo: Option<String>,
    pub api_url: String,
    pub uploads_url: String,
    pub token_file: Option<PathBuf>,
    /// Published releases kept per recipe; `None` keeps every one.
    pub keep: Option<usize>,
    pub retry_budget: std::time::Duration,
    /// A GitHub App to authenticate as, instead of a token.
    pub app: Option<GitHubApp>,
}

/// `[github] app_id`, `installation_id`, `private_key_file` (all three, or none).
#[derive(Debug, Clone)]
pub struct GitHubApp {
    pub app_id: u64,
    pub installation_id: u64,
    pub private_key_file: PathBuf,
}

/// Settings of the job queue's workers.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// Finished jobs and webhook deliveries older than this are pruned; `None` keeps them.
    pub keep_finished: Option<std::time::Duration>,
}

/// The longest `[queue] keep_days` (a century); `0` keeps everything.
const MAX_KEEP_DAYS: u32 = 36_500;

/// The `[server]` table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerFile {
    listen: Option<SocketAddr>,
    stale_after_hours: Option<u32>,
    github_secret_file: Option<PathBuf>,
    gitlab_token_file: Option<PathBuf>,
    forgejo_secret_file: Option<PathBuf>,
}

/// Settings of `repack serve` (and the staleness `repack status` reports).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// A recipe without a good check for this long is reported stale.
    pub stale_after: time::Duration,
    /// Files holding the webhook secrets; each environment variable takes precedence.
    pub github_secret_file: Option<PathBuf>,
    pub gitlab_token_file: Option<PathBuf>,
    pub forgejo_secret_file: Option<PathBuf>,
}

/// `repack serve`'s default address: every interface, port 8080.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:8080";

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub output_dir: PathBuf,
    pub public_url: String,
    pub part_size: u64,
    pub recipe_dirs: Vec<PathBuf>,
    /// Where the keys recipes pin are looked for (every directory, in order).
    pub key_dirs: Vec<PathBuf>,
    pub mirrors: Vec<MirrorRewrite>,
    /// How often a failed download is retried (resuming) before the run fails.
    pub fetch_retries: u32,
    pub server: ServerConfig,
    pub publisher: PublisherKind,
    /// Where releases are laid out before they are published.
    pub staging_dir: PathBuf,
    /// Whether a build points at byte-identical root-image parts earlier releases of its
    /// recipe published instead of storing them again.
    pub reuse_parts: bool,
    pub github: GitHubSettings,
    pub queue: QueueConfig,
    /// The file the settings came from, if any.
    pub source: Option<PathBuf>,
}

impl Config {
    /// Loads `explicit` (or the first default file that exists), then applies the environment.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        let source = match explicit {
            Some(path) => Some(path.to_owned()),
            None => ["repack.toml", "/etc/repack/repack.toml"]
                .iter()
                .map(PathBuf::from)
                .find(|path| path.is_file()),
        };
        let file = match &source {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?;
                toml::from_str::<ConfigFile>(&text).map_err(|error| {
                    anyhow::anyhow!(
                        "config file {}: {}",
                        path.display(),
                        error.to_string().trim_end()
                    )
                })?
            }
            None => ConfigFile::default(),
        };
        Config::resolve(file, source, &|name| std::env::var(name).ok())
    }

    fn resolve(
        file: ConfigFile,
        source: Option<PathBuf>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config> {
        let data_dir = env(env_vars::REPACK_DATA_DIR)
            .map(PathBuf::from)
            .or(file.data_dir)
            .unwrap_or_else(default_data_dir);
        let database_url = env(env_vars::REPACK_DATABASE_URL)
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("catalog.db").display()));
        let output_dir = env(env_vars::REPACK_OUTPUT_DIR)
            .map(PathBuf::from)
            .or(file.output_dir)
            .unwrap_or_else(|| data_dir.join("public"));
        let public_url_set = env(env_vars::REPACK_PUBLIC_URL).or(file.public_url);
        let part_size = match env(env_vars::REPACK_PART_SIZE) {
            Some(text) => text.trim().parse().with_context(|| {
                format!(
                    "{} must be a number of bytes, got `{text}`",
                    env_vars::REPACK_PART_SIZE
                )
            })?,
            None => file.part_size.unwrap_or(repack_assemble::DEFAULT_PART_SIZE),
        };
        if part_size < 1 << 20 {
            bail!("part_size {part_size} is below the 1 MiB minimum");
        }
        let recipe_dirs = match env(env_vars::REPACK_RECIPE_DIRS) {
            Some(text) => std::env::split_paths(&text).collect(),
            None => file.recipe_dirs.unwrap_or_else(|| {
                vec![
                    PathBuf::from("recipes"),
                    PathBuf::from("/etc/repack/recipes"),
                ]
            }),
        };
        let key_dirs = match env(env_vars::REPACK_KEY_DIRS) {
            Some(text) => std::env::split_paths(&text).collect(),
            None => file
                .key_dirs
                .unwrap_or_else(|| vec![PathBuf::from("keys"), PathBuf::from("/etc/repack/keys")]),
        };
        let mirrors = match env(env_vars::REPACK_MIRRORS) {
            Some(text) => MirrorRewrite::parse_list(&text)
                .with_context(|| format!("in {}", env_vars::REPACK_MIRRORS))?,
            None => file.mirror,
        };
        let fetch_retries = match env(env_vars::REPACK_FETCH_RETRIES) {
            Some(text) => text.trim().parse().with_context(|| {
                format!(
                    "{} must be a whole number, got `{text}`",
                    env_vars::REPACK_FETCH_RETRIES
                )
            })?,
            None => file.fetch_retries.unwrap_or(5),
        };
        let listen = match env(env_vars::REPACK_LISTEN) {
            Some(text) => text.trim().parse().with_context(|| {
                format!(
                    "{} must be an address like 0.0.0.0:8080, got `{text}`",
                    env_vars::REPACK_LISTEN
                )
            })?,
            None => file
                .server
                .listen
                .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("a valid default address")),
        };
        let stale_hours = file.server.stale_after_hours.unwrap_or(48);
        if stale_hours == 0 {
            bail!("[server] stale_after_hours must be at least 1");
        }
        let server = ServerConfig {
            listen,
            stale_after: time::Duration::hours(i64::from(stale_hours)),
            github_secret_file: file.server.github_secret_file,
            gitlab_token_file: file.server.gitlab_token_file,
            forgejo_secret_file: file.server.forgejo_secret_file,
        };
        let publisher = match env(env_vars::REPACK_PUBLISHER) {
            Some(text) => match text.trim() {
                "directory" => PublisherKind::Directory,
                "github" => PublisherKind::GitHub,
                other => bail!(
                    "{} must be `directory` or `github`, got `{other}`",
                    env_vars::REPACK_PUBLISHER
                ),
            },
            None => file.publisher.unwrap_or_default(),
        };
        let staging_dir = file.staging_dir.unwrap_or_else(|| match publisher {
            // Same filesystem as the published tree: publishing is one rename.
            PublisherKind::Directory => output_dir.join(repack_publish::directory_staging_dir()),
            PublisherKind::GitHub => data_dir.join("staging"),
        });
        let reuse_parts = match env(env_vars::REPACK_REUSE_PARTS) {
            Some(text) => match text.trim() {
                "true" | "1" => true,
                "false" | "0" => false,
                other => bail!(
                    "{} must be `true` or `false`, got `{other}`",
                    env_vars::REPACK_REUSE_PARTS
                ),
            },
            None => file
                .reuse_parts
                .unwrap_or(publisher == PublisherKind::GitHub),
        };
        let github_file = file.github.unwrap_or_default();
        if github_file.keep == Some(0) {
            bail!("[github] keep must be at least 1 (leave it out to keep every release)");
        }
        let app = match (
            github_file.app_id,
            github_file.installation_id,
            github_file.private_key_file,
        ) {
            (None, None, None) => None,
            (Some(app_id), Some(installation_id), Some(private_key_file)) => Some(GitHubApp {
                app_id,
                installation_id,
                private_key_file,
            }),
            _ => bail!(
                "[github] app_id, installation_id and private_key_file go together (a GitHub App)"
            ),
        };
        let github = GitHubSettings {
            app,
            repo: github_file.repo,
            api_url: github_file
                .api_url
                .unwrap_or_else(|| DEFAULT_GITHUB_API_URL.to_owned()),
            uploads_url: github_file
                .uploads_url
                .unwrap_or_else(|| DEFAULT_GITHUB_UPLOADS_URL.to_owned()),
            token_file: github_file.token_file,
            keep: github_file.keep,
            retry_budget: std::time::Duration::from_secs(
                github_file.retry_budget_secs.unwrap_or(600),
            ),
        };
        if publisher == PublisherKind::GitHub && github.repo.is_none() {
            bail!("publisher = \"github\" needs `repo = \"owner/name\"` in [github]");
        }
        // Releases on GitHub are downloaded from the repository's web URL
        // (`<web>/releases/download/<tag>/<name>`); elsewhere the menu's server by default.
        let public_url = public_url_set.unwrap_or_else(|| match (publisher, &github.repo) {
            (PublisherKind::GitHub, Some(repo)) => match github_web_url(&github.api_url) {
                Some(web) => format!("{web}/{repo}"),
                None => DEFAULT_PUBLIC_URL.to_owned(),
            },
            _ => DEFAULT_PUBLIC_URL.to_owned(),
        });
        let queue = QueueConfig {
            keep_finished: match file.queue.keep_days {
                None => Some(repack_queue::DEFAULT_KEEP_FINISHED),
                Some(0) => None,
                Some(days) if days > MAX_KEEP_DAYS => bail!(
                    "[queue] keep_days {days} is above {MAX_KEEP_DAYS}; use 0 to keep finished jobs forever"
                ),
                Some(days) => Some(std::time::Duration::from_secs(u64::from(days) * 86_400)),
            },
        };
        Ok(Config {
            publisher,
            staging_dir,
            reuse_parts,
            github,
            server,
            queue,
            fetch_retries,
            data_dir,
            database_url,
            output_dir,
            public_url,
            part_size,
            recipe_dirs,
            key_dirs,
            mirrors,
            source,
        })
    }

    /// Where downloads are kept.
    pub fn cache_dir(&self) -> PathBuf {
        self.data_dir.join("cache")
    }
}

/// `$XDG_DATA_HOME/repack`, `~/.local/share/repack`, or `./repack-data` without a home.
fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|dir| !dir.is_empty()) {
        return PathBuf::from(dir).join("repack");
    }
    match std::env::var_os("HOME").filter(|home| !home.is_empty()) {
        Some(home) => PathBuf::from(home).join(".local/share/repack"),
        None => PathBuf::from("repack-data"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_from(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    }

    #[test]
    fn environment_overrides_the_file() {
        let file: ConfigFile = toml::from_str(
            r#"
data_dir = "/var/lib/repack"
output_dir = "/srv/out"
[[mirror]]
from = "https://a/"
to = "http://b/"
"#,
        )
        .unwrap();
        let config = Config::resolve(
            file,
            None,
            &env_from(&[
                ("REPACK_OUTPUT_DIR", "/tmp/out"),
                ("REPACK_MIRRORS", "https://c/=http://d/"),
            ]),
        )
        .unwrap();
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/repack"));
        assert_eq!(config.output_dir, PathBuf::from("/tmp/out"));
        assert_eq!(config.database_url, "sqlite:///var/lib/repack/catalog.db");
        assert_eq!(config.mirrors.len(), 1);
        assert_eq!(config.mirrors[0].from, "https://c/");
    }

    #[test]
    fn unknown_keys_are_errors() {
        assert!(toml::from_str::<ConfigFile>("datadir = \"x\"").is_err());
        assert!(toml::from_str::<ConfigFile>("[server]\ngithub_secret = \"x\"").is_err());
    }

    #[test]
    fn server_settings_come_from_the_file_and_the_environment() {
        let file: ConfigFile = toml::from_str(
            "[server]\nlisten = \"127.0.0.1:9000\"\nstale_after_hours = 6\n\
             github_secret_file = \"/run/secrets/gh\"\n",
        )
        .unwrap();
        let config = Config::resolve(file, None, &env_from(&[])).unwrap();
        assert_eq!(config.server.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(config.server.stale_after, time::Duration::hours(6));
        assert_eq!(
            config.server.github_secret_file,
            Some(PathBuf::from("/run/secrets/gh"))
        );
        let config = Config::resolve(
            ConfigFile::default(),
            None,
            &env_from(&[("REPACK_LISTEN", "[::1]:8081")]),
        )
        .unwrap();
        assert_eq!(config.server.listen.to_string(), "[::1]:8081");
        assert_eq!(config.server.stale_after, time::Duration::hours(48));
    }

    #[test]
    fn github_publisher_is_chosen_with_its_table() {
        let file: ConfigFile = toml::from_str(
            "publisher = \"github\"\ndata_dir = \"/d\"\n[github]\nrepo = \"acme/netboot\"\n\
             api_url = \"http://127.0.0.1:1/api\"\ntoken_file = \"/run/t\"\nkeep = 3\n",
        )
        .unwrap();
        let config = Config::resolve(file, None, &env_from(&[])).unwrap();
        assert_eq!(config.publisher, PublisherKind::GitHub);
        assert_eq!(config.github.repo.as_deref(), Some("acme/netboot"));
        assert_eq!(config.github.api_url, "http://127.0.0.1:1/api");
        assert_eq!(config.github.uploads_url, DEFAULT_GITHUB_UPLOADS_URL);
        assert_eq!(config.github.keep, Some(3));
        assert_eq!(config.staging_dir, PathBuf::from("/d/staging"));
        // No web address goes with that API URL: the menu's server, as for directories.
        assert_eq!(config.public_url, "http://${next-server}");
        assert!(config.reuse_parts);
        let on_github = |extra: &str| {
            let text =
                format!("publisher = \"github\"\n{extra}[github]\nrepo = \"acme/netboot\"\n");
            Config::resolve(toml::from_str(&text).unwrap(), None, &env_from(&[])).unwrap()
        };
        assert_eq!(on_github("").public_url, "https://github.com/acme/netboot");
        let enterprise = Config::resolve(
            toml::from_str(
                "publisher = \"github\"\n[github]\nrepo = \"acme/netboot\"\n\
                 api_url = \"https://git.example.org/api/v3\"\n",
            )
            .unwrap(),
            None,
            &env_from(&[]),
        )
        .unwrap();
        assert_eq!(
            enterprise.public_url,
            "https://git.example.org/acme/netboot"
        );
        let set = on_github("public_url = \"http://mirror.lan/netboot\"\nreuse_parts = false\n");
        assert_eq!(set.public_url, "http://mirror.lan/netboot");
        assert!(!set.reuse_parts);
        // Directories stay self-contained unless reuse is asked for.
        let directory = Config::resolve(ConfigFile::default(), None, &env_from(&[])).unwrap();
        assert!(!directory.reuse_parts);
        let asked = Config::resolve(
            ConfigFile::default(),
            None,
            &env_from(&[("REPACK_REUSE_PARTS", "true")]),
        )
        .unwrap();
        assert!(asked.reuse_parts);
        assert!(
            Config::resolve(
                ConfigFile::default(),
                None,
                &env_from(&[("REPACK_REUSE_PARTS", "yes please")])
            )
            .is_err()
        );
        let directory = Config::resolve(
            toml::from_str("output_dir = \"/srv/out\"").unwrap(),
            None,
            &env_from(&[]),
        )
        .unwrap();
        assert_eq!(directory.publisher, PublisherKind::Directory);
        assert_eq!(directory.staging_dir, PathBuf::from("/srv/out/.staging"));
        let error = Config::resolve(
            toml::from_str("publisher = \"github\"").unwrap(),
            None,
            &env_from(&[]),
        )
        .unwrap_err();
        assert!(error.to_string().contains("repo"), "{error}");
        assert!(toml::from_str::<ConfigFile>("[github]\ntoken = \"x\"").is_err());
        let app = Config::resolve(
            toml::from_str(
                "[github]\nrepo = \"a/b\"\napp_id = 1\ninstallation_id = 2\n\
                 private_key_file = \"/k.pem\"\n",
            )
            .unwrap(),
            None,
            &env_from(&[]),
        )
        .unwrap();
        assert_eq!(app.github.app.as_ref().map(|a| a.installation_id), Some(2));
        let half = Config::resolve(
            toml::from_str("[github]\napp_id = 1\n").unwrap(),
            None,
            &env_from(&[]),
        )
        .unwrap_err();
        assert!(half.to_string().contains("go together"), "{half}");
    }

    #[test]
    fn queue_retention_defaults_to_thirty_days_and_zero_keeps_everything() {
        let config = Config::resolve(ConfigFile::default(), None, &env_from(&[])).unwrap();
        assert_eq!(
            config.queue.keep_finished,
            Some(std::time::Duration::from_secs(30 * 86_400))
        );
        let file: ConfigFile = toml::from_str("[queue]\nkeep_days = 7\n").unwrap();
        let config = Config::resolve(file, None, &env_from(&[])).unwrap();
        assert_eq!(
            config.queue.keep_finished,
            Some(std::time::Duration::from_secs(7 * 86_400))
        );
        let file: ConfigFile = toml::from_str("[queue]\nkeep_days = 0\n").unwrap();
        let config = Config::resolve(file, None, &env_from(&[])).unwrap();
        assert_eq!(config.queue.keep_finished, None);
        let file: ConfigFile = toml::from_str("[queue]\nkeep_days = 100000\n").unwrap();
        let error = Config::resolve(file, None, &env_from(&[])).unwrap_err();
        assert!(error.to_string().contains("keep_days"), "{error}");
        assert!(toml::from_str::<ConfigFile>("[queue]\nkeep = 3\n").is_err());
    }

    #[test]
    fn bad_part_size_names_the_variable() {
        let error = Config::resolve(
            ConfigFile::default(),
            None,
            &env_from(&[("REPACK_PART_SIZE", "2G")]),
        )
        .unwrap_err();
        assert!(format!("{error:#}").contains("REPACK_PART_SIZE"));
    }
}
