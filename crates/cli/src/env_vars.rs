//! Every environment variable repack reads, declared once. Each overrides the key of the
//! same meaning in `repack.toml`.

/// Path of the configuration file (default: `./repack.toml`, then `/etc/repack/repack.toml`).
pub const REPACK_CONFIG: &str = "REPACK_CONFIG";
/// Directory for the download cache and the default SQLite catalogue.
pub const REPACK_DATA_DIR: &str = "REPACK_DATA_DIR";
/// Catalogue database URL, e.g. `sqlite:///var/lib/repack/catalog.db`.
pub const REPACK_DATABASE_URL: &str = "REPACK_DATABASE_URL";
/// Root directory releases and menus are published into.
pub const REPACK_OUTPUT_DIR: &str = "REPACK_OUTPUT_DIR";
/// URL at which booting machines reach the output directory (the menu's default base).
pub const REPACK_PUBLIC_URL: &str = "REPACK_PUBLIC_URL";
/// Files larger than this many bytes are published as parts.
pub const REPACK_PART_SIZE: &str = "REPACK_PART_SIZE";
/// Directories searched for `<recipe>.toml`, separated by `:`.
pub const REPACK_RECIPE_DIRS: &str = "REPACK_RECIPE_DIRS";
/// Directories holding pinned OpenPGP keys (`<name>-<FINGERPRINT>.asc`), separated by `:`.
pub const REPACK_KEY_DIRS: &str = "REPACK_KEY_DIRS";
/// Mirror rewrites `FROM=TO`, separated by `;`; replace the file's `[[mirror]]` list.
pub const REPACK_MIRRORS: &str = "REPACK_MIRRORS";
/// How often a broken download is retried (resuming) before a run fails.
pub const REPACK_FETCH_RETRIES: &str = "REPACK_FETCH_RETRIES";
/// Log filter in `tracing` syntax (default `info`).
pub const REPACK_LOG: &str = "REPACK_LOG";
/// `text` or `json` (default: text on a terminal, json otherwise).
pub const REPACK_LOG_FORMAT: &str = "REPACK_LOG_FORMAT";
/// GitHub API token for recipes of kind `github` (optional; raises the API's rate limit).
/// Sent to the GitHub API only, never logged.
pub const REPACK_GITHUB_TOKEN: &str = "REPACK_GITHUB_TOKEN";
/// `true` or `false`: point at parts earlier releases published instead of storing them
/// again (overrides `reuse_parts` in the file).
pub const REPACK_REUSE_PARTS: &str = "REPACK_REUSE_PARTS";
/// The publisher: `directory` or `github` (overrides `publisher` in the file).
pub const REPACK_PUBLISHER: &str = "REPACK_PUBLISHER";
/// The token the GitHub publisher uploads with (takes precedence over `[github] token_file`).
/// Sent to the GitHub API only, never logged or printed.
pub const GITHUB_TOKEN: &str = "GITHUB_TOKEN";
/// Address `repack serve` listens on, e.g. `0.0.0.0:8080`.
pub const REPACK_LISTEN: &str = "REPACK_LISTEN";
/// The secret GitHub signs webhook deliveries with (`X-Hub-Signature-256`). Never logged.
pub const REPACK_GITHUB_WEBHOOK_SECRET: &str = "REPACK_GITHUB_WEBHOOK_SECRET";
/// The token GitLab sends with webhook deliveries (`X-Gitlab-Token`). Never logged.
pub const REPACK_GITLAB_WEBHOOK_TOKEN: &str = "REPACK_GITLAB_WEBHOOK_TOKEN";
/// The secret Forgejo or Gitea signs webhook deliveries with. Never logged.
pub const REPACK_FORGEJO_WEBHOOK_SECRET: &str = "REPACK_FORGEJO_WEBHOOK_SECRET";
