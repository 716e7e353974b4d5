//! Command-line definitions. The doc comments here are the `--help` text.

use crate::commands::{initrd::InitrdCommand, iso::IsoCommand};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build and publish the newest release of a recipe, unless it is already published.
    Run {
        /// Recipe id: the name of `<id>.toml` in a recipe directory.
        recipe: String,
    },
    /// Show the newest upstream release of a recipe; build nothing.
    Watch {
        /// Recipe id.
        recipe: String,
    },
    /// Write the iPXE menu for the current builds of the catalogue.
    Menu {
        /// Write here instead of `<output_dir>/menu.ipxe`; `-` for standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Show the current build and the last upstream check of every recipe.
    Status {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Inspect an ISO image.
    #[command(subcommand)]
    Iso(IsoCommand),
    /// Inspect, patch and lint initramfs images.
    #[command(subcommand)]
    Initrd(InitrdCommand),
}
