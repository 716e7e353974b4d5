//! The assembly stage: from a verified ISO to a complete staging directory.
//!
//! [`Assembly`] is what the stage is handed (the recipe, the candidate with its build key and
//! tag, the verified ISO, the root images a [`RootfsTap`](crate::RootfsTap) laid out during
//! the download); [`Assembly::build`] fills a [`Staging`] directory and returns it as a
//! [`StagedRelease`]. It is synchronous and blocking (the pipeline runs it in `spawn_blocking`).
//!
//! Order matters: the root images are copied (and split, and hashed) first, because the boot
//! hook baked into the initrd lists every part with its sha256; then the kernel's version is
//! checked against the modules of the root images and the initrd; the initrd is patched and
//! linted; the kernel is copied; the manifest is written last.

use crate::consistency;
use crate::stream::StreamedFile;
use crate::{
    AssembleError, BuildError, CopySource, OutputFile, PublishedParts, StagedRelease, Staging,
    copy_split,
};
use repack_boot::{BaseInitrd, BootError, BootInputs};
use repack_core::{
    BuildKey, Candidate, FORMAT_VERSION, FileRole, Manifest, ManifestFile, Recipe, SourceIso,
};
use repack_initrd::{Codec, Initrd, Limits, Overlay};
use repack_iso::{IsoFile, IsoImage};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// Where an upstream initrd whose legacy-lz4 tail is re-wrapped is written while it is
/// patched (removed afterwards).
const REWRAPPED_INITRD_NAME: &str = "upstream-initrd.rewrapped";
/// Published names of the kernel and the patched initrd (netboot.xyz's names).
const KERNEL_NAME: &str = "vmlinuz";
const INITRD_NAME: &str = "initrd";
/// Largest zisofs-compressed file (a kernel or a side file) decoded into memory to publish.
const MAX_DECODED_FILE: u64 = 512 << 20;

/// One release to lay out: what the assembly stage is handed.
pub struct Assembly {
    pub recipe: Recipe,
    pub candidate: Candidate,
    pub key: BuildKey,
    /// The build's tag (`<version>-<8 hex of the build key>`).
    pub tag: String,
    /// The verified ISO (hollow when `hollow`).
    pub iso_path: PathBuf,
    pub iso_size: u64,
    /// Files larger than this are stored as parts of this size.
    pub part_size: u64,
    /// Root images already laid out (in the fetcher's stream directory) from the download,
    /// in recipe order (empty when the ISO came from the cache or streaming gave up).
    pub streamed: Vec<StreamedFile>,
    /// The ISO file lacks the bytes of the streamed root images (see
    /// [`FetchedIso::hollow`](repack_fetch::FetchedIso::hollow)).
    pub hollow: bool,
    /// Root-image parts earlier releases published: a byte-identical part is not stored
    /// again, the manifest and the initrd's rootfs list point at it by URL.
    pub published: PublishedParts,
}

impl Assembly {
    /// Lays the release out in `staging` and hands it back checked complete (an incomplete
    /// one is deleted here, with `staging`), ready for a publisher.
    pub fn build(mut self, staging: Staging) -> Result<StagedRelease, BuildError> {
        let manifest = self.lay_out(staging.path())?;
        // Checked complete before the publisher sees it; an incomplete one is deleted here.
        Ok(StagedRelease::new(staging, manifest)?)
    }

    /// Writes every file and the manifest (last) into `staging_dir`.
    fn lay_out(&mut self, staging_dir: &Path) -> Result<Manifest, BuildError> {
        let iso_error = |source| BuildError::Iso {
            url: self.candidate.iso_url.clone(),
            source,
        };
        let iso = repack_iso::open(&self.iso_path).map_err(iso_error)?;
        let image = File::open(&self.iso_path).map_err(|source| {
            BuildError::Assemble(AssembleError::Io {
                action: "cannot open",
                path: self.iso_path.clone(),
                source,
            })
        })?;
        let kernel = iso.resolve(&self.recipe.iso.kernel).map_err(iso_error)?;
        let initrd = iso.resolve(&self.recipe.iso.initrd).map_err(iso_error)?;
        let rootfs_sources = self
            .recipe
            .iso
            .rootfs
            .iter()
            .map(|pattern| iso.resolve(pattern))
            .collect::<Result<Vec<_>, _>>()
            .map_err(iso_error)?;
        let rootfs_names = published_names(&self.recipe.iso.rootfs, &rootfs_sources)?;
        // The initrd and the root images are read and copied by extent, and the extents of a
        // zisofs-compressed file (Rock Ridge ZF) hold compressed bytes: refuse them before a
        // byte is copied. (A compressed kernel or side file is decoded, see `copy`.)
        for file in std::iter::once(&initrd).chain(&rootfs_sources) {
            file.extents().map_err(iso_error)?;
        }
        let family = repack_boot::family(self.recipe.boot)?;
        let side_sources =
            side_files(&iso, family, &rootfs_sources, &rootfs_names).map_err(iso_error)?;

        let mut streamed: Vec<Option<StreamedFile>> = std::mem::take(&mut self.streamed)
            .into_iter()
            .map(Some)
            .collect();
        streamed.resize_with(rootfs_sources.len(), || None);
        if self.hollow {
            // Only the root images' bytes are missing from a hollow ISO; everything read
            // from it must lie elsewhere.
            for file in [&kernel, &initrd]
                .into_iter()
                .chain(side_sources.iter().map(|(f, _)| f))
            {
                let shared = file.stored_extents().iter().any(|extent| {
                    rootfs_sources
                        .iter()
                        .flat_map(|root| root.stored_extents())
                        .any(|root| {
                            extent.offset < root.offset + root.len
                                && root.offset < extent.offset + extent.len
                        })
                });
                if shared {
                    return Err(BuildError::StreamIncomplete {
                        detail: format!("{} shares bytes with a root image", file.path),
                    });
                }
            }
        }
        let mut files = Vec::new();
        for ((source, name), streamed) in rootfs_sources.iter().zip(&rootfs_names).zip(streamed) {
            match streamed {
                // The same bytes of the same verified image, already split and hashed.
                Some(done) if done.source == *source && done.sink.name() == name => {
                    tracing::info!(path = %source.path, size = source.size, "root image laid out during the download");
                    let from = done.sink.dir().to_owned();
                    let file = done.sink.finish(FileRole::Rootfs)?;
                    for part in &file.parts {
                        move_file(&from.join(&part.name), &staging_dir.join(&part.name))?;
                    }
                    files.push(file);
                }
                other => {
                    if let Some(stale) = other {
                        tracing::warn!(path = %source.path, "the verified image disagrees with its streamed prefix; copying instead");
                        stale.sink.discard();
                    }
                    if self.hollow {
                        return Err(BuildError::StreamIncomplete {
                            detail: format!(
                                "{} was not laid out during the download and the stored ISO lacks it",
                                source.path
                            ),
                        });
                    }
                    tracing::info!(path = %source.path, size = source.size, "copying root image");
                    files.push(self.copy(staging_dir, &image, source, name, FileRole::Rootfs)?);
                }
            }
        }

        let mut side = Vec::new();
        for (source, name) in &side_sources {
            tracing::info!(path = %source.path, "publishing the boot family's side file");
            side.push(self.copy(staging_dir, &image, source, name, FileRole::Side)?);
        }

        let kernel_version = consistency::kernel_version(&image, &kernel);
        match (
            &kernel_version,
            consistency::rootfs_module_versions(staging_dir, &files),
        ) {
            (Some(version), Some(found)) => {
                let names = files
                    .iter()
                    .map(|f| format!("`{}`", f.name))
                    .collect::<Vec<_>>();
                consistency::check(version, format!("root image {}", names.join(" + ")), &found)?;
                tracing::info!(kernel = %version, modules = ?found, "kernel and root image agree");
            }
            (None, _) => {
                tracing::info!(path = %kernel.path, "the kernel announces no version; modules not checked")
            }
            (Some(_), None) => {}
        }
        // After the modules check, which reads the parts; before the initrd, which lists them.
        self.point_at_published_parts(staging_dir, &mut files)?;

        let (initrd_file, plan) = self.patch_initrd(
            staging_dir,
            &image,
            &initrd,
            &files,
            &side,
            kernel_version.as_deref(),
        )?;
        let kernel_file = self.copy(staging_dir, &image, &kernel, KERNEL_NAME, FileRole::Kernel)?;

        let mut all_files = vec![kernel_file, initrd_file];
        all_files.extend(files);
        all_files.extend(side);
        let manifest = Manifest {
            format_version: FORMAT_VERSION,
            recipe: self.recipe.id.clone(),
            name: self.recipe.name.clone(),
            os: self.recipe.os.clone(),
            recipe_hash: self.key.recipe_hash,
            build_key: self.key.id(),
            version: self.candidate.version.clone(),
            arch: self.recipe.arch,
            tag: self.tag.clone(),
            boot_family: self.recipe.boot,
            cmdline: plan.cmdline,
            ram_mib: plan.ram_mib,
            source: SourceIso {
                url: self.candidate.iso_url.clone(),
                sha256: self.key.iso_sha256,
                size: self.iso_size,
            },
            files: all_files,
            repack_version: env!("CARGO_PKG_VERSION").to_owned(),
        };
        crate::write_manifest(staging_dir, &manifest)?;
        Ok(manifest)
    }

    /// Replaces every root-image part that an earlier release already published, byte for
    /// byte, by a pointer to it: the staged copy goes, the part keeps its name, size and
    /// sha256 and gains the published part's URL.
    fn point_at_published_parts(
        &self,
        staging_dir: &Path,
        files: &mut [ManifestFile],
    ) -> Result<(), BuildError> {
        for file in files.iter_mut() {
            for part in file.parts.iter_mut().filter(|part| part.is_stored_here()) {
                let Some(url) = self.published.url_for(part) else {
                    continue;
                };
                let path = staging_dir.join(&part.name);
                std::fs::remove_file(&path).map_err(|source| {
                    BuildError::Assemble(AssembleError::Io {
                        action: "cannot remove",
                        path,
                        source,
                    })
                })?;
                tracing::info!(part = %part.name, size = part.size, %url, "part already published; the release points at it");
                part.url = Some(url.to_owned());
            }
        }
        Ok(())
    }

    fn copy(
        &self,
        staging_dir: &Path,
        image: &File,
        source: &IsoFile,
        name: &str,
        role: FileRole,
    ) -> Result<ManifestFile, BuildError> {
        let iso_error = |error| BuildError::Iso {
            url: self.candidate.iso_url.clone(),
            source: error,
        };
        if source.is_compressed() {
            // zisofs: decode it (checked block by block) rather than copy compressed bytes.
            let data = repack_iso::read_file(image, source, MAX_DECODED_FILE).map_err(iso_error)?;
            return Ok(crate::copy_stream(
                &mut data.as_slice(),
                staging_dir,
                name,
                role,
            )?);
        }
        let extents: Vec<(u64, u64)> = source
            .extents()
            .map_err(iso_error)?
            .iter()
            .map(|extent| (extent.offset, extent.len))
            .collect();
        let copy_source = CopySource {
            image,
            image_path: &self.iso_path,
            extents: &extents,
        };
        Ok(copy_split(
            &copy_source,
            staging_dir,
            name,
            role,
            self.part_size,
        )?)
    }

    /// Appends the family's overlay to the upstream initrd. The initrd is read where it lies
    /// in the ISO and decoded once; the patched image is linted before a byte of it is
    /// written (its walk goes on from the upstream one's end), then the upstream bytes are
    /// copied unchanged, followed by the overlay.
    fn patch_initrd(
        &self,
        staging_dir: &Path,
        image: &File,
        initrd: &IsoFile,
        rootfs: &[ManifestFile],
        side_files: &[ManifestFile],
        kernel_version: Option<&str>,
    ) -> Result<(ManifestFile, repack_boot::BootPlan), BuildError> {
        let extents: Vec<(u64, u64)> = initrd
            .extents()
            .map_err(|source| BuildError::Iso {
                url: self.candidate.iso_url.clone(),
                source,
            })?
            .iter()
            .map(|extent| (extent.offset, extent.len))
            .collect();
        let reader = image.try_clone().map_err(|source| {
            BuildError::Assemble(AssembleError::Io {
                action: "cannot open",
                path: self.iso_path.clone(),
                source,
            })
        })?;
        let base = Initrd::open_extents(reader, &extents, Limits::default())?;
        if let Some(version) = kernel_version {
            consistency::check(
                version,
                format!("initrd `{}`", initrd.path),
                &consistency::initrd_module_versions(&base),
            )?;
        }
        let plan = repack_boot::family(self.recipe.boot)?.plan(&BootInputs {
            rootfs,
            side_files,
            initrd_size: initrd.size,
            extra_args: &self.recipe.kernel_args,
            base: &InitrdReader(&base),
        })?;
        let overlay = plan.overlay.iter().fold(Overlay::new(), |overlay, file| {
            overlay.file(&file.path, file.mode, file.contents.clone())
        });
        // Nothing can follow a legacy-lz4 last member on kernels without the 2021 unlz4 fix:
        // its cpio bytes are re-wrapped, unchanged, as gzip (which every kernel decodes), in a
        // scratch file.
        let scratch = ScratchFile(staging_dir.join(REWRAPPED_INITRD_NAME));
        let rewrapped;
        let (base, appendix) = match base.appendix(&overlay, Codec::Gzip) {
            Err(repack_initrd::Error::Lz4LegacyBase { segment, offset }) => {
                tracing::warn!(
                    segment,
                    offset,
                    "the upstream initrd ends with a legacy-lz4 member; re-wrapping its cpio content as gzip"
                );
                let io_error = |action, source| {
                    BuildError::Assemble(AssembleError::Io {
                        action,
                        path: scratch.0.clone(),
                        source,
                    })
                };
                let file =
                    File::create_new(&scratch.0).map_err(|e| io_error("cannot create", e))?;
                let report = base.rewrap_lz4_tail(Codec::Gzip, &file)?;
                rewrapped =
                    Initrd::open_extents(file, &[(0, report.total_len)], Limits::default())?;
                let appendix = rewrapped.appendix(&overlay, Codec::Gzip)?;
                (&rewrapped, appendix)
            }
            other => (&base, other?),
        };
        let report = base.patched(&appendix)?.lint();
        if !report.is_clean() {
            let findings = report
                .findings
                .iter()
                .map(|finding| {
                    format!(
                        "[{}] at byte {}: {}",
                        finding.rule, finding.offset, finding.message
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
            return Err(BuildError::InitrdLint { findings });
        }
        let mut output = OutputFile::create(staging_dir, INITRD_NAME)?;
        {
            let mut writer = BufWriter::new(&mut output);
            base.write_patched(&appendix, &mut writer)?;
        }
        let initrd_file = output.finish(FileRole::Initrd)?;
        Ok((initrd_file, plan))
    }
}

/// Moves a finished part into the staging directory: a rename, or a copy when the download
/// cache and the output are on different filesystems.
fn move_file(from: &Path, to: &Path) -> Result<(), BuildError> {
    let io_error = |action, source| {
        BuildError::Assemble(AssembleError::Io {
            action,
            path: to.to_owned(),
            source,
        })
    };
    match std::fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::CrossesDevices => {
            std::fs::copy(from, to).map_err(|e| io_error("cannot copy into", e))?;
            File::open(to)
                .and_then(|file| file.sync_all())
                .map_err(|e| io_error("cannot flush", e))?;
            std::fs::remove_file(from).map_err(|e| io_error("cannot remove the source of", e))
        }
        Err(error) => Err(io_error("cannot move into", error)),
    }
}

/// Lets a boot family read the upstream initrd.
struct InitrdReader<'a>(&'a Initrd);

impl BaseInitrd for InitrdReader<'_> {
    fn read_file(&self, path: &str) -> Result<Option<Vec<u8>>, BootError> {
        self.0
            .read_file(path)
            .map_err(|error| BootError::BaseInitrd {
                path: path.to_owned(),
                message: error.to_string(),
            })
    }
}

/// A file deleted when dropped, so no scratch copy is left in a staging directory.
struct ScratchFile(PathBuf);

impl Drop for ScratchFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The boot family's side files that the ISO has beside each root image (same directory), with
/// their published names. A name the family offers but the ISO lacks is simply not published;
/// a side file whose name collides with a root image or another side file is left out.
fn side_files(
    iso: &dyn IsoImage,
    family: &dyn repack_boot::BootFamily,
    rootfs: &[IsoFile],
    rootfs_names: &[String],
) -> Result<Vec<(IsoFile, String)>, repack_iso::IsoError> {
    let mut found: Vec<(IsoFile, String)> = Vec::new();
    for (source, name) in rootfs.iter().zip(rootfs_names) {
        let dir = source.path.rsplit_once('/').map_or("", |(dir, _)| dir);
        for side in family.side_files(name) {
            if rootfs_names.contains(&side) || found.iter().any(|(_, seen)| *seen == side) {
                continue;
            }
            match iso.lookup(&format!("{dir}/{side}")) {
                Ok(file) => found.push((file, side)),
                Err(repack_iso::IsoError::NotFound { .. }) => {}
                Err(error) => return Err(error),
            }
        }
    }
    Ok(found)
}

/// The published name of each root image: its file name in the ISO, which must be unique.
pub(crate) fn published_names(
    patterns: &[String],
    sources: &[IsoFile],
) -> Result<Vec<String>, BuildError> {
    let mut names: Vec<String> = Vec::new();
    for (index, source) in sources.iter().enumerate() {
        let name = source
            .path
            .rsplit('/')
            .next()
            .unwrap_or(&source.path)
            .to_owned();
        if let Some(previous) = names.iter().position(|existing| *existing == name) {
            return Err(BuildError::NameClash {
                first: patterns[previous].clone(),
                second: patterns[index].clone(),
                name,
            });
        }
        if name == KERNEL_NAME || name == INITRD_NAME {
            return Err(BuildError::NameClash {
                first: patterns[index].clone(),
                second: format!("the {name} repack publishes"),
                name,
            });
        }
        names.push(name);
    }
    Ok(names)
}
