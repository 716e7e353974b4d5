//! The `repack` binary: parses the command line, sets up logging and dispatches to one
//! small function per subcommand. Only this crate uses `anyhow` and draws to the terminal.

mod cli;
mod commands;
mod config;
mod env_vars;
mod reporter;
mod services;

use clap::Parser;
use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_logging();
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(error) => {
            if is_broken_pipe(&error) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Human-readable logs on a terminal, JSON lines otherwise (service, CI); both on stderr.
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env(env_vars::REPACK_LOG).unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match std::env::var(env_vars::REPACK_LOG_FORMAT).as_deref() {
        Ok("json") => true,
        Ok("text") => false,
        _ => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if json {
        builder
            .with_writer(std::io::stderr)
            .json()
            .with_current_span(false)
            .init();
    } else {
        builder
            .with_writer(reporter::LogWriter)
            .compact()
            .with_target(false)
            .init();
    }
}
