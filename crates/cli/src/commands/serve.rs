//! `repack serve`: the HTTP service (repack-server) on the configured catalogue: the status
//! page, webhooks that enqueue build jobs for `repack worker` to run, menus, the published
//! files, health, metrics and the JSON API. Stops on SIGTERM or SIGINT after open requests
//! finish.
//!
//! Webhook secrets come only from the environment or from files (never from `repack.toml`
//! itself, which is often world-readable and kept in git): a forge without a secret answers
//! 404 on its hook path.

use crate::config::Config;
use crate::env_vars;
use crate::services::{Services, recipes};
use anyhow::{Context, Result, bail};
use repack_server::webhooks::WebhookSecret;
use repack_server::{Server, ServerSettings, Triggers, WebhookSecrets, status};
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

pub async fn serve(config: &Config, listen: Option<SocketAddr>) -> Result<ExitCode> {
    let secrets = WebhookSecrets {
        github: secret(
            env_vars::REPACK_GITHUB_WEBHOOK_SECRET,
            config.server.github_secret_file.as_deref(),
        )?,
        gitlab: secret(
            env_vars::REPACK_GITLAB_WEBHOOK_TOKEN,
            config.server.gitlab_token_file.as_deref(),
        )?,
        forgejo: secret(
            env_vars::REPACK_FORGEJO_WEBHOOK_SECRET,
            config.server.forgejo_secret_file.as_deref(),
        )?,
    };
    let recipes = recipes(config)?;
    let triggers = Triggers::from_recipes(&recipes)?;
    let services = Services::open(config).await?;
    let catalog = services.pipeline.catalog.clone();
    let settings = ServerSettings {
        public_url: config.public_url.clone(),
        output_dir: config.output_dir.clone(),
        triggers,
        recipes: recipes
            .iter()
            .map(|recipe| status::KnownRecipe {
                id: recipe.id.clone(),
                name: recipe.name.clone(),
            })
            .collect(),
        stale_after: config.server.stale_after,
        secrets,
    };
    let forges: Vec<&str> = [
        ("github", settings.secrets.github.is_some()),
        ("gitlab", settings.secrets.gitlab.is_some()),
        ("forgejo", settings.secrets.forgejo.is_some()),
    ]
    .into_iter()
    .filter_map(|(forge, configured)| configured.then_some(forge))
    .collect();
    let repositories = settings.triggers.len();
    let server = Server::new(catalog, services.queue(), settings);

    let address = listen.unwrap_or(config.server.listen);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    let address = listener.local_addr().context("the listening address")?;
    tracing::info!(%address, webhooks = ?forges, repositories, "serving");
    // The one line on standard output: where to connect (a port of 0 picks a free one).
    println!("listening on http://{address}");

    let shutdown = CancellationToken::new();
    tokio::spawn(crate::commands::worker::stop_on_signal(shutdown.clone()));
    let served = server.serve(listener, shutdown).await;
    services.close().await;
    served.context("the HTTP server failed")?;
    tracing::info!("server stopped");
    Ok(ExitCode::SUCCESS)
}

/// The secret from `variable` when it is set, else from `file`, else none. A trailing line
/// end is not part of the secret; an empty secret is an error (it would accept anyone who
/// signs with the empty key). Errors never contain the secret.
fn secret(variable: &str, file: Option<&Path>) -> Result<Option<WebhookSecret>> {
    let text = match std::env::var(variable) {
        Ok(text) => Some((text, format!("the environment variable {variable}"))),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(_)) => bail!("{variable} is not valid UTF-8"),
    };
    let text = match (text, file) {
        (Some(found), _) => found,
        (None, Some(path)) => (
            std::fs::read_to_string(path).with_context(|| {
                format!("cannot read the webhook secret file {}", path.display())
            })?,
            format!("the file {}", path.display()),
        ),
        (None, None) => return Ok(None),
    };
    let (text, source) = text;
    let secret = text.trim_end_matches(['\n', '\r']);
    if secret.is_empty() {
        bail!("the webhook secret in {source} is empty");
    }
    let secret = WebhookSecret::new(secret.as_bytes().to_vec())
        .with_context(|| format!("the webhook secret in {source}"))?;
    Ok(Some(secret))
}
