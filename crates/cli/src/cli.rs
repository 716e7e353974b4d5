//! Command-line definitions. The doc comments here are the `--help` text.

use crate::commands::{initrd::InitrdCommand, iso::IsoCommand, recipes::RecipesCommand};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// The shortest `repack worker --lease-seconds`: heartbeats go every quarter of the lease,
/// and a busy database or machine must not make one late enough to lose a running build.
pub const MIN_LEASE_SECONDS: u64 = 3;

/// Turn upstream live-ISO releases into network-bootable releases and iPXE menus.
///
/// repack watches an upstream for new ISOs, downloads and verifies them, republishes kernel,
/// patched initrd and root images (split into parts where needed) with a manifest, records
/// them in a catalogue and writes the iPXE menu that boots them.
#[derive(Debug, Parser)]
#[command(name = "repack", version, max_term_width = 100)]
pub struct Cli {
    /// Configuration file (default: ./repack.toml, then /etc/repack/repack.toml).
    #[arg(long, global = true, env = crate::env_vars::REPACK_CONFIG, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

/// Arguments of `repack watch`.
#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Recipe ids (the names of `<id>.toml` in a recipe directory).
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub recipes: Vec<String>,
    /// Check every recipe in the recipe directories, several at a time.
    #[arg(long)]
    pub all: bool,
    /// Print JSON: one object per recipe, sorted by id, times in RFC 3339 UTC.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build and publish the newest release of a recipe, unless it is already published.
    Run {
        /// Recipe id: the name of `<id>.toml` in a recipe directory.
        recipe: String,
    },
    /// Run the scheduled service: enqueue each recipe's cron slots and build queued jobs until
    /// SIGTERM (running builds finish within the grace period; the rest are released).
    Worker {
        /// Builds run at the same time.
        #[arg(long, default_value_t = 2)]
        slots: usize,
        /// Seconds running builds may take to finish after SIGTERM before their jobs are
        /// released to another worker.
        #[arg(long, default_value_t = 300)]
        grace_seconds: u64,
        /// Seconds a running build's job stays leased to this worker without a heartbeat
        /// (renewed every quarter of it): if this worker dies, another one takes its builds
        /// over this long after. At least 3.
        #[arg(
            long,
            default_value_t = 120,
            value_parser = clap::value_parser!(u64).range(MIN_LEASE_SECONDS..)
        )]
        lease_seconds: u64,
    },
    /// Serve the status page, webhooks (which queue builds for `repack worker`), menus, the
    /// published files, /healthz, /metrics and a read-only JSON API over HTTP, until SIGTERM.
    ///
    /// Prints `listening on http://ADDRESS` on standard output once it accepts connections.
    Serve {
        /// Address to listen on (default: `[server] listen`, else 0.0.0.0:8080; port 0 picks a
        /// free one).
        #[arg(long, value_name = "ADDRESS")]
        listen: Option<std::net::SocketAddr>,
    },
    /// Show what is new upstream for recipes, against what is published; build nothing.
    ///
    /// Per recipe: the newest upstream release (version, ISO URL, publish time), the
    /// published build, and a state: new, current, backwards or failing (with the error's
    /// kind and since when). Exits with 3 when any recipe is failing.
    Watch(WatchArgs),
    /// Write the iPXE menu for the current builds of the catalogue.
    Menu {
        /// Write here instead of `<output_dir>/menu.ipxe`; `-` for standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Show every recipe: upstream and published version, live since, failing since and why,
    /// download size, RAM needed. Exits with 3 when a recipe is failing (or, with
    /// --check-links, a published file is gone).
    Status {
        /// Print JSON (the array `GET /api/v1/status` returns) instead of text.
        #[arg(long)]
        json: bool,
        /// Also request every published file of the current builds (HEAD) and report the
        /// ones that are gone.
        #[arg(long)]
        check_links: bool,
    },
    /// Inspect an ISO image.
    #[command(subcommand)]
    Iso(IsoCommand),
    /// Inspect, patch and lint initramfs images.
    #[command(subcommand)]
    Initrd(InitrdCommand),
    /// Check the recipes: that they parse, and that every key they pin is at hand.
    #[command(subcommand)]
    Recipes(RecipesCommand),
    /// Publish something already built, outside the pipeline.
    #[command(subcommand)]
    Publish(PublishCommand),
    /// Export the catalogue's current builds for other tools.
    #[command(subcommand)]
    Export(ExportCommand),
}

/// What `repack export` writes.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// An `endpoints.yml` fragment in netboot.xyz's shape (path, files, os, version, kernel,
    /// arch), one entry per current build. It is the whole list each time: replace the old
    /// fragment with it, never merge, so files a release no longer has are not kept listed.
    Endpoints {
        /// Write here instead of standard output (`-` is standard output).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// Where `repack publish` publishes to.
#[derive(Debug, Subcommand)]
pub enum PublishCommand {
    /// Publish a built release directory (its manifest.json), or with --tag exactly the files
    /// given, as a GitHub release: a draft filled by streamed uploads, checked, then made
    /// public. Re-running resumes or does nothing. The token comes from GITHUB_TOKEN or
    /// `[github] token_file`. Prints the release's location (`releases/download/TAG`).
    Github(PublishGitHubArgs),
}

/// Arguments of `repack publish github`.
#[derive(Debug, clap::Args)]
pub struct PublishGitHubArgs {
    /// A release directory; with --tag, the files to publish as the release's assets.
    #[arg(required = true, value_name = "DIR|FILE")]
    pub paths: Vec<PathBuf>,
    /// Publish the files given under this tag instead of a release directory.
    #[arg(long)]
    pub tag: Option<String>,
    /// Repository `owner/name` (default: `[github] repo`).
    #[arg(long)]
    pub repo: Option<String>,
    /// REST API base URL (default: `[github] api_url`, else api.github.com).
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Upload API base URL (default: `[github] uploads_url`, else uploads.github.com).
    #[arg(long, value_name = "URL")]
    pub uploads_url: Option<String>,
    /// Print JSON (`repo`, `location`, `newly_published`) instead of the location.
    #[arg(long)]
    pub json: bool,
}
