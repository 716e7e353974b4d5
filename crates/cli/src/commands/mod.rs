//! One module per subcommand, and the one `match` that dispatches to them.

mod export;
pub mod initrd;
pub mod iso;
mod menu;
mod publish;
pub mod recipes;
mod run;
mod serve;
mod status;
mod watch;
pub(crate) mod worker;

use crate::cli::{Cli, Command, ExportCommand};
use crate::config::Config;
use anyhow::{Context, Result};
use std::process::ExitCode;

pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Iso(command) => iso::run(command),
        Command::Initrd(command) => initrd::run(command),
        Command::Recipes(command) => {
            let config = Config::load(cli.config.as_deref())?;
            recipes::run(&config, command)
        }
        command => {
            let config = Config::load(cli.config.as_deref())?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            runtime.block_on(async move {
                match command {
                    Command::Run { recipe } => run::run(&config, &recipe).await,
                    Command::Worker {
                        slots,
                        grace_seconds,
                        lease_seconds,
                    } => {
                        worker::worker(
                            &config,
                            slots,
                            std::time::Duration::from_secs(grace_seconds),
                            std::time::Duration::from_secs(lease_seconds),
                        )
                        .await
                    }
                    Command::Watch(args) => watch::watch(&config, args).await,
                    Command::Menu { output } => menu::menu(&config, output.as_deref()).await,
                    Command::Export(ExportCommand::Endpoints { output }) => {
                        export::endpoints(&config, output.as_deref()).await
                    }
                    Command::Status { json, check_links } => {
                        status::status(&config, json, check_links).await
                    }
                    Command::Serve { listen } => serve::serve(&config, listen).await,
                    Command::Publish(command) => publish::run(&config, command).await,
                    Command::Iso(_) | Command::Initrd(_) | Command::Recipes(_) => {
                        unreachable!("handled above")
                    }
                }
            })
        }
    }
}

pub(crate) use crate::services::{fetcher, open_catalog};
