//! `repack iso ls|cat`: look inside an ISO image exactly the way a build reads it (Rock
//! Ridge names first, then Joliet, then plain ISO 9660; symbolic links shown, never
//! followed; hostile images refused). stdout carries data only.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use repack_iso::{DirEntry, EntryKind, IsoImage};

/// Inspect ISO images.
#[derive(Debug, clap::Subcommand)]
pub enum IsoCommand {
    /// List a directory inside an ISO image.
    Ls {
        /// The ISO image file.
        image: PathBuf,
        /// Directory inside the image.
        #[arg(default_value = "/")]
        path: String,
        /// Print a JSON array of entries ({path, name, kind, size, mode, target}).
        #[arg(long)]
        json: bool,
        /// List subdirectories too, depth first.
        #[arg(short = 'r', long)]
        recursive: bool,
    },
    /// Copy one file from an ISO image to stdout.
    Cat {
        /// The ISO image file.
        image: PathBuf,
        /// File inside the image; the last component may be a glob matching exactly one file.
        path: String,
    },
}

/// Runs an `iso` subcommand.
pub fn run(command: IsoCommand) -> anyhow::Result<ExitCode> {
    let written = match command {
        IsoCommand::Ls {
            image,
            path,
            json,
            recursive,
        } => ls(&image, &path, json, recursive),
        IsoCommand::Cat { image, path } => cat(&image, &path),
    };
    match written {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if is_broken_pipe(&e) => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e),
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

fn ls(image: &std::path::Path, dir: &str, json: bool, recursive: bool) -> anyhow::Result<()> {
    let iso = repack_iso::open(image)?;
    let mut entries: Vec<(String, DirEntry)> = Vec::new();
    if recursive {
        iso.walk(dir, |path, entry| {
            entries.push((path.to_owned(), entry.clone()))
        })
    } else {
        iso.list(dir).map(|list| {
            let base = dir.trim_end_matches('/');
            entries.extend(
                list.into_iter()
                    .map(|e| (format!("{}/{}", base, e.name), e)),
            );
        })
    }
    .with_context(|| format!("cannot list `{dir}` in `{}`", image.display()))?;

    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if json {
        let values: Vec<serde_json::Value> = entries
            .iter()
            .map(|(path, e)| {
                serde_json::json!({
                    "path": normalize(path),
                    "name": e.name,
                    "kind": e.kind.as_str(),
                    "size": e.size,
                    "mode": e.mode,
                    "target": e.symlink_target,
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &values)?;
        writeln!(out)?;
    } else {
        for (path, e) in &entries {
            let shown = if recursive {
                normalize(path)
            } else {
                e.name.clone()
            };
            let marker = match e.kind {
                EntryKind::File => '-',
                EntryKind::Directory => 'd',
                EntryKind::Symlink => 'l',
                EntryKind::CharDevice => 'c',
                EntryKind::BlockDevice => 'b',
                EntryKind::Fifo => 'p',
                EntryKind::Socket => 's',
                _ => '?',
            };
            let mode = e
                .mode
                .map(|m| format!("{:04o}", m & 0o7777))
                .unwrap_or_else(|| "----".into());
            write!(out, "{marker} {mode} {:>14} {shown}", e.size)?;
            if let Some(target) = &e.symlink_target {
                write!(out, " -> {target}")?;
            }
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// `//live/x` (from listing `/`) becomes `/live/x`.
fn normalize(path: &str) -> String {
    let trimmed = path.trim_start_matches('/');
    format!("/{trimmed}")
}

fn cat(image: &std::path::Path, path: &str) -> anyhow::Result<()> {
    let iso = repack_iso::open(image)?;
    let file = iso
        .resolve(path)
        .with_context(|| format!("cannot read `{path}` from `{}`", image.display()))?;
    let mut reader = iso.reader(&file)?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    io::copy(&mut reader, &mut out)
        .with_context(|| format!("cannot copy `{}` to stdout", file.path))?;
    out.flush()?;
    Ok(())
}
