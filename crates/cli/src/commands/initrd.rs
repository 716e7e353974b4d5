//! `repack initrd ls|cat|append|lint`: inspect, patch and check initramfs images.
//!
//! stdout carries data only (listings, file content, JSON); messages go to stderr. A
//! broken pipe on stdout (`repack initrd ls img | head`) ends the command successfully.
//! `lint` exits 1 when it finds anything and states what the image unpacks to (the RAM its
//! rootfs takes); `append` lints the patched image before it writes anything and exits 1,
//! writing nothing, when the result would not unpack cleanly.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use repack_initrd::{Codec, EntryKind, EntryStatus, Initrd, Limits, LintOptions, Overlay};

/// Inspect, patch and check initramfs images.
#[derive(Debug, Subcommand)]
pub enum InitrdCommand {
    /// List the unpacked tree: each path with its mode, size, the segment that defines it and
    /// the earlier entries it overrides.
    Ls {
        /// The initrd image.
        image: PathBuf,
        /// Print JSON (segments, tree and every entry) instead of text.
        #[arg(long)]
        json: bool,
        /// List every entry of every member (with what the kernel does with it) instead of
        /// the effective tree.
        #[arg(long)]
        all: bool,
    },
    /// Write the content the kernel leaves at PATH (later members win) to stdout.
    Cat {
        /// The initrd image.
        image: PathBuf,
        /// Path inside the initramfs, e.g. `conf/initramfs.conf`.
        path: String,
    },
    /// Append one overlay member with the given files; the base bytes are kept unchanged.
    Append {
        /// The base initrd image.
        image: PathBuf,
        /// A file to add: local source, destination path in the initramfs, optional octal
        /// mode (default: 755 when the source is executable, else 644).
        #[arg(long = "file", value_name = "SRC:DEST[:MODE]", required = true)]
        files: Vec<FileSpec>,
        /// Compression of the overlay member: gzip, zstd, xz, lz4-legacy or none.
        #[arg(long, default_value = "gzip")]
        codec: Codec,
        /// Where to write the patched image (written under a temporary name, then renamed).
        #[arg(
            short,
            long,
            required_unless_present = "in_place",
            conflicts_with = "in_place"
        )]
        output: Option<PathBuf>,
        /// Append to IMAGE itself: only the overlay is written, the base bytes stay where
        /// they are (cut back to its old length if the write fails).
        #[arg(long)]
        in_place: bool,
        /// When the base ends with a legacy-lz4 member (nothing can follow it on kernels
        /// without the 2021 unlz4 fix), write its cpio content again, unchanged, as a CODEC
        /// member first (default gzip, which every kernel decodes). Not with --in-place.
        #[arg(
            long,
            value_name = "CODEC",
            num_args = 0..=1,
            default_missing_value = "gzip",
            conflicts_with = "in_place"
        )]
        rewrap_lz4: Option<Codec>,
    },
    /// Check an image against the kernel's unpacking rules and state what it unpacks to (the
    /// RAM its rootfs takes); exit 1 when anything is found.
    Lint {
        /// The initrd image.
        image: PathBuf,
        /// Print the findings and the unpacked size as JSON.
        #[arg(long)]
        json: bool,
        /// Largest rootfs the image may unpack to before `unpacked-too-large` is reported, in
        /// bytes or with a binary suffix (K, M, G, T; `3G` = 3 GiB). Default 2G: the kernel
        /// unpacks into tmpfs capped at half of RAM unless `root=` is given.
        #[arg(long, value_name = "SIZE", value_parser = parse_size)]
        max_unpacked: Option<u64>,
    },
}

/// `SIZE` of `lint --max-unpacked`: bytes, or a number with a binary suffix (`K`, `M`, `G`,
/// `T`, optionally followed by `iB`).
fn parse_size(s: &str) -> Result<u64, String> {
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let shift = match &s[digits.len()..] {
        "" | "B" => 0,
        "K" | "KiB" => 10,
        "M" | "MiB" => 20,
        "G" | "GiB" => 30,
        "T" | "TiB" => 40,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{s}` (use bytes or K, M, G, T)"
            ));
        }
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a size like 2147483648 or 2G"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("`{s}` is too large"))
}

/// `SRC:DEST[:MODE]` of `append --file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpec {
    pub src: PathBuf,
    pub dest: String,
    pub mode: Option<u32>,
}

impl FromStr for FileSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.splitn(3, ':');
        let src = parts.next().unwrap_or_default();
        let dest = parts
            .next()
            .ok_or_else(|| format!("`{s}`: expected SRC:DEST[:MODE]"))?;
        if src.is_empty() || dest.is_empty() {
            return Err(format!(
                "`{s}`: expected SRC:DEST[:MODE] with non-empty SRC and DEST"
            ));
        }
        let mode = match parts.next() {
            None => None,
            Some(m) => Some(
                u32::from_str_radix(m, 8)
                    .ok()
                    .filter(|m| *m <= 0o7777)
                    .ok_or_else(|| format!("`{s}`: MODE `{m}` is not an octal mode like 755"))?,
            ),
        };
        Ok(FileSpec {
            src: PathBuf::from(src),
            dest: dest.trim_start_matches('/').to_string(),
            mode,
        })
    }
}

/// Runs one `repack initrd` subcommand.
pub fn run(command: InitrdCommand) -> Result<ExitCode> {
    let result = match command {
        InitrdCommand::Ls { image, json, all } => ls(&image, json, all),
        InitrdCommand::Cat { image, path } => cat(&image, &path),
        InitrdCommand::Append {
            image,
            files,
            codec,
            output,
            in_place: _,
            rewrap_lz4,
        } => append(&image, &files, codec, output.as_deref(), rewrap_lz4),
        InitrdCommand::Lint {
            image,
            json,
            max_unpacked,
        } => {
            let mut options = LintOptions::default();
            if let Some(max) = max_unpacked {
                options = options.max_unpacked_bytes(max);
            }
            lint(&image, json, &options)
        }
    };
    match result {
        Err(e) if is_broken_pipe(&e) => Ok(ExitCode::SUCCESS),
        other => other,
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(io::ErrorKind::BrokenPipe))
    })
}

fn open(image: &Path) -> Result<Initrd> {
    Initrd::open(image).with_context(|| format!("failed to open initrd `{}`", image.display()))
}

fn mode_string(kind: EntryKind, mode: u32) -> String {
    let mut s = String::with_capacity(10);
    s.push(kind.letter());
    for (i, c) in ['r', 'w', 'x', 'r', 'w', 'x', 'r', 'w', 'x']
        .iter()
        .enumerate()
    {
        s.push(if mode & (0o400 >> i) != 0 { *c } else { '-' });
    }
    s
}

fn ls(image: &Path, json: bool, all: bool) -> Result<ExitCode> {
    let initrd = open(image)?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    let entries = initrd.entries()?;
    if json {
        let tree = initrd.tree();
        let value = if all {
            serde_json::json!({ "segments": initrd.segments(), "entries": entries })
        } else {
            serde_json::json!({ "segments": initrd.segments(), "tree": tree })
        };
        serde_json::to_writer_pretty(&mut out, &value)?;
        writeln!(out)?;
    } else if all {
        for e in &entries {
            let status = match &e.status {
                EntryStatus::Applied => String::new(),
                EntryStatus::Overridden { by } => format!("  (overridden by entry {by})"),
                EntryStatus::Dropped { reason } => format!("  (dropped: {reason})"),
                EntryStatus::Ignored { reason } => format!("  (ignored: {reason})"),
            };
            let target = e
                .symlink_target
                .as_deref()
                .map(|t| format!(" -> {t}"))
                .unwrap_or_default();
            writeln!(
                out,
                "{:>6} seg {:<3} {} {:>10}  {}{}{}",
                e.index,
                e.segment,
                mode_string(e.kind, e.mode),
                e.size,
                e.name,
                target,
                status
            )?;
        }
    } else {
        for t in initrd.tree() {
            let target = t
                .symlink_target
                .as_deref()
                .map(|t| format!(" -> {t}"))
                .unwrap_or_default();
            let over = if t.overridden.is_empty() {
                String::new()
            } else {
                let list: Vec<String> = t
                    .overridden
                    .iter()
                    .map(|&i| format!("entry {i} in segment {}", entries[i].segment))
                    .collect();
                format!("  (overrides {})", list.join(", "))
            };
            let links = if t.links > 1 {
                format!("  ({} links)", t.links)
            } else {
                String::new()
            };
            writeln!(
                out,
                "{} {:>10}  seg {:<3} {}{}{}{}",
                mode_string(t.kind, t.mode),
                t.size,
                t.segment,
                t.path,
                target,
                links,
                over
            )?;
        }
    }
    out.flush()?;
    if !json {
        let mut err = io::stderr().lock();
        for s in initrd.segments() {
            let _ = writeln!(
                err,
                "segment {}: {} at byte {}, {} bytes{}{}",
                s.index,
                s.kind.name(),
                s.offset,
                s.len,
                s.decompressed_len
                    .map(|d| format!(" ({d} decompressed)"))
                    .unwrap_or_default(),
                if s.entries > 0 {
                    format!(", {} entries", s.entries)
                } else {
                    String::new()
                }
            );
        }
        if let Some(f) = initrd.fault() {
            let _ = writeln!(
                err,
                "warning: byte {}: [{}] {}",
                f.offset, f.rule, f.message
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn cat(image: &Path, path: &str) -> Result<ExitCode> {
    let initrd = open(image)?;
    let path = path.trim_start_matches('/');
    match initrd.read_file(path)? {
        Some(data) => {
            let mut out = io::stdout().lock();
            out.write_all(&data)?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        None => {
            eprintln!(
                "error: `{path}` is not a regular file in the unpacked initramfs of `{}`",
                image.display()
            );
            Ok(ExitCode::from(2))
        }
    }
}

/// `output` None: in place.
fn append(
    image: &Path,
    files: &[FileSpec],
    codec: Codec,
    output: Option<&Path>,
    rewrap_lz4: Option<Codec>,
) -> Result<ExitCode> {
    if let Some(output) = output
        && output.exists()
        && same_file(image, output)
    {
        bail!(
            "the output `{}` is the input image; write to another path or use --in-place",
            output.display()
        );
    }
    let initrd = open(image)?;
    if let (Some(rewrap), Some(output)) = (rewrap_lz4, output)
        && initrd.ends_with_lz4_legacy()
    {
        return append_rewrapped(&initrd, image, files, codec, output, rewrap);
    }
    let overlay = overlay_of(files)?;
    let appendix = initrd.appendix(&overlay, codec).with_context(|| {
        let hint = if initrd.ends_with_lz4_legacy() && output.is_some() {
            " (--rewrap-lz4 writes its content again as a gzip member first)"
        } else {
            ""
        };
        format!(
            "failed to append to `{}`; nothing was written{hint}",
            image.display()
        )
    })?;
    let lint = initrd
        .patched(&appendix)
        .with_context(|| format!("failed to check the patched `{}`", image.display()))?
        .lint();
    if !lint.is_clean() {
        for f in &lint.findings {
            eprintln!("error: {f}");
        }
        eprintln!("error: the patched image would not pass lint; nothing was written");
        return Ok(ExitCode::from(1));
    }
    let written = match output {
        None => {
            initrd.append_in_place(&appendix, image)?;
            image.to_owned()
        }
        Some(output) => {
            write_new(output, |file| {
                Ok(initrd.write_patched_file(&appendix, file)?)
            })?;
            output.to_owned()
        }
    };
    let report = appendix.report();
    eprintln!(
        "wrote `{}`: {} base bytes unchanged, {} bytes of padding, {} overlay at byte {} ({} bytes, {} uncompressed)",
        written.display(),
        report.base_len,
        report.padding,
        report.codec,
        report.overlay_offset,
        report.overlay_len,
        report.overlay_newc_len
    );
    for p in &report.adaptation.unlinked_hardlinks {
        eprintln!(
            "note: `{p}` is a hard link in the base; it is unlinked first so the other links keep their content"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The overlay `--file` arguments describe.
fn overlay_of(files: &[FileSpec]) -> Result<Overlay> {
    let mut overlay = Overlay::new();
    for f in files {
        let data = std::fs::read(&f.src)
            .with_context(|| format!("failed to read `{}`", f.src.display()))?;
        let mode = match f.mode {
            Some(m) => m,
            None => {
                use std::os::unix::fs::PermissionsExt;
                let perm = std::fs::metadata(&f.src)?.permissions().mode();
                if perm & 0o111 != 0 { 0o755 } else { 0o644 }
            }
        };
        overlay = overlay.file(&f.dest, mode, data);
    }
    Ok(overlay)
}

/// `append --rewrap-lz4` of a base ending in legacy lz4: the re-wrapped image and the
/// overlay are written to a temporary file, linted, and renamed to `output` only if clean.
/// `output` is not `image` (checked by the caller).
fn append_rewrapped(
    initrd: &Initrd,
    image: &Path,
    files: &[FileSpec],
    codec: Codec,
    output: &Path,
    rewrap: Codec,
) -> Result<ExitCode> {
    use std::os::unix::fs::FileExt;
    let overlay = overlay_of(files)?;
    let mut findings = Vec::new();
    let mut reports = None;
    let written = write_new(output, |file| {
        let rewrapped = initrd.rewrap_lz4_tail(rewrap, file)?;
        let reopened = Initrd::open_extents(
            file.try_clone()?,
            &[(0, rewrapped.total_len)],
            Limits::default(),
        )?;
        let appendix = reopened.appendix(&overlay, codec)?;
        findings = reopened.patched(&appendix)?.lint().findings;
        if !findings.is_empty() {
            bail!("the patched image would not pass lint");
        }
        file.write_all_at(appendix.bytes(), rewrapped.total_len)?;
        reports = Some((rewrapped, appendix.report().clone()));
        Ok(())
    });
    if !findings.is_empty() {
        for f in &findings {
            eprintln!("error: {f}");
        }
        eprintln!("error: the patched image would not pass lint; nothing was written");
        return Ok(ExitCode::from(1));
    }
    written.with_context(|| {
        format!(
            "failed to append to `{}`; nothing was written",
            image.display()
        )
    })?;
    let (rewrapped, report) = reports.expect("set when the write succeeded");
    eprintln!(
        "wrote `{}`: {} base bytes unchanged, the legacy-lz4 member (segment {}) re-wrapped as {} ({} bytes of cpio, unchanged, in {} bytes), then a {} overlay at byte {} ({} bytes)",
        output.display(),
        rewrapped.kept,
        rewrapped.segment,
        rewrapped.codec,
        rewrapped.decoded_len,
        rewrapped.member_len,
        report.codec,
        report.overlay_offset,
        report.overlay_len,
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes `path` whole or not at all: `write` fills a new temporary file beside it, which
/// is synced and renamed over `path` only when everything succeeded.
fn write_new(path: &Path, write: impl FnOnce(&std::fs::File) -> Result<()>) -> Result<()> {
    let name = path
        .file_name()
        .with_context(|| format!("`{}` is not a file path", path.display()))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = path.with_file_name(temp_name);
    let file = std::fs::File::create_new(&temp)
        .with_context(|| format!("failed to create `{}`", temp.display()))?;
    let result = write(&file)
        .and_then(|()| Ok(file.sync_all()?))
        .and_then(|()| Ok(std::fs::rename(&temp, path)?));
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.with_context(|| format!("failed to write `{}`", path.display()))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn lint(image: &Path, json: bool, options: &LintOptions) -> Result<ExitCode> {
    let report = repack_initrd::lint_with(image, Limits::default(), options)
        .with_context(|| format!("failed to lint `{}`", image.display()))?;
    let mut out = io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        for f in &report.findings {
            writeln!(out, "{}: {f}", image.display())?;
        }
    }
    out.flush()?;
    eprintln!("`{}`: unpacks to {}", image.display(), report.unpacked);
    if report.is_clean() {
        eprintln!("`{}`: clean", image.display());
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "`{}`: {} finding(s)",
            image.display(),
            report.findings.len()
        );
        Ok(ExitCode::from(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_size("2147483648"), Ok(2 << 30));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("4K"), Ok(4096));
        assert!(parse_size("2g").is_err());
        assert!(parse_size("G").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("99999999999T").is_err());
    }

    #[test]
    fn file_spec_parses_mode_and_strips_leading_slash() {
        let f: FileSpec = "a.sh:/lib/x.sh:755".parse().unwrap();
        assert_eq!(f.dest, "lib/x.sh");
        assert_eq!(f.mode, Some(0o755));
        assert!("a.sh".parse::<FileSpec>().is_err());
        assert!("a:b:999".parse::<FileSpec>().is_err());
    }
}
