//! One module per subcommand, and the one `match` that dispatches to them.

pub mod initrd;
pub mod iso;
mod menu;
mod run;
mod status;
mod watch;

use crate::cli::{Cli, Command};
use crate::config::Config;
use anyhow::{Context, Result};
use repack_catalog::Catalog;
use repack_fetch::{FetchConfig, Fetcher};
use std::process::ExitCode;

pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Iso(command) => iso::run(command),
        Command::Initrd(command) => initrd::run(command),
        command => {
            let config = Config::load(cli.config.as_deref())?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            runtime.block_on(async move {
                match command {
                    Command::Run { recipe } => run::run(&config, &recipe).await,
                    Command::Watch { recipe } => watch::watch(&config, &recipe).await,
                    Command::Menu { output } => menu::menu(&config, output.as_deref()).await,
                    Command::Status { json } => status::status(&config, json).await,
                    Command::Iso(_) | Command::Initrd(_) => unreachable!("handled above"),
                }
            })
        }
    }
}

/// Opens (creating when needed) the catalogue the configuration names.
async fn open_catalog(config: &Config) -> Result<Catalog> {
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

fn fetcher(config: &Config) -> Result<Fetcher> {
    let mut fetch_config = FetchConfig::new(config.cache_dir());
    fetch_config.rewrites = config.mirrors.clone();
    fetch_config.retries = config.fetch_retries;
    Fetcher::new(fetch_config).context("cannot set up the HTTP client")
}
