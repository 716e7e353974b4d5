//! The download: the candidate's ISO, verified, with its root images laid out as it streamed.
//!
//! [`Pipeline::fetch`] makes sure the ISO will be vouched for before a byte of it is
//! requested (the recipe's pinned keys, repack-watch's [`trust`]), downloads it through two
//! taps (repack-assemble's [`RootfsTap`] and the signature check), and hands on a
//! [`VerifiedIso`]: digest and signature checked, with the root images the tap laid out and
//! the guard of the files only this build needs ([`Leftovers`]). [`Pipeline::evict`] removes
//! the ISO from the download cache once the release is published.

use crate::trust;
use crate::watch::PlannedBuild;
use crate::{Pipeline, PipelineError};
use repack_assemble::{RootfsTap, StreamedFile};
use repack_core::Recipe;
use repack_fetch::{FetchedIso, Reporter};
use repack_publish::Publisher;

/// The ISO of a build, its digest (and signature, when the recipe pins keys) checked.
///
/// Fields drop in order: the streamed parts, then the leftovers, then the ISO (and its lease).
pub(crate) struct VerifiedIso {
    /// The root images laid out during the download, in recipe order (empty when the ISO
    /// came from the cache or streaming gave up); taken by the assembly.
    pub streamed: Vec<StreamedFile>,
    /// `None` when the ISO came from the cache.
    leftovers: Option<Leftovers>,
    pub iso: FetchedIso,
}

impl<P: Publisher> Pipeline<P> {
    /// Downloads (or finds in the cache) the ISO of `planned`, checks it and lays out its
    /// root images from the stream.
    pub(crate) async fn fetch(
        &self,
        recipe: &Recipe,
        planned: &PlannedBuild,
        reporter: &dyn Reporter,
    ) -> Result<VerifiedIso, PipelineError> {
        let (candidate, sha256) = (&planned.candidate, planned.key.iso_sha256);
        // The digest must come from signed text, or the ISO carry a signature, when the recipe
        // pins keys: checked before a byte of the ISO is requested.
        let signature_tap =
            match trust::before_download(&self.fetcher, candidate, sha256, &self.settings.key_dirs)
                .await?
            {
                trust::IsoProof::None => None,
                trust::IsoProof::Signature(tap) => Some(*tap),
            };

        // The root images are laid out (in the fetcher's stream directory) as they stream in,
        // and moved into the staging directory only once the ISO's digest matched.
        let stream_dir = self.fetcher.stream_dir(&sha256);
        let tap = RootfsTap::new(
            recipe.iso.rootfs.clone(),
            self.settings.part_size,
            stream_dir.clone(),
        );
        let (iso, (tap, signature_tap)) = self
            .fetcher
            .fetch_iso_with_tap(&candidate.iso_url, sha256, reporter, (tap, signature_tap))
            .await?;
        tracing::info!(path = %iso.path.display(), size = iso.size, cached = iso.from_cache, hollow = iso.hollow, "ISO verified");
        // A hollow ISO (its root images were stored only as parts) and the stream directory
        // serve this build alone.
        let leftovers = (!iso.from_cache).then(|| Leftovers {
            hollow_iso: iso.hollow.then(|| iso.path.clone()),
            stream_dir: stream_dir.clone(),
            _lease: iso.lease.clone().filter(|_| iso.hollow),
        });
        if let Some(signature_tap) = signature_tap {
            let (path, downloaded, hollow) = (iso.path.clone(), !iso.from_cache, iso.hollow);
            let verdict = tokio::task::spawn_blocking(move || {
                if hollow && !signature_tap.saw_whole_download() {
                    // The stored ISO lacks the root images' bytes and the stream missed its
                    // start: nothing left to check the signature against.
                    return Err(PipelineError::StreamIncomplete {
                        detail: "the ISO's signature could not be checked: the download was resumed by another process".to_owned(),
                    });
                }
                signature_tap.finish(&path, downloaded).map_err(PipelineError::from)
            })
            .await
            .map_err(|error| PipelineError::Task(error.to_string()))?;
            if let Err(error) = verdict {
                // Not what the pinned key signed: it leaves the cache like a mismatching ISO.
                let path = iso.path.clone();
                if self.fetcher.evict(iso).await {
                    tracing::warn!(path = %path.display(), "ISO without a valid signature removed from the download cache");
                }
                return Err(error);
            }
        }
        let streamed = if iso.from_cache {
            Vec::new()
        } else {
            let iso_size = iso.size;
            tokio::task::spawn_blocking(move || tap.finish(iso_size))
                .await
                .map_err(|error| PipelineError::Task(error.to_string()))?
                .unwrap_or_else(|reason| {
                    tracing::info!(%reason, "root images will be copied from the verified ISO");
                    Vec::new()
                })
        };
        Ok(VerifiedIso {
            streamed,
            leftovers,
            iso,
        })
    }

    /// Published and recorded: the ISO is not needed again (a failed build keeps it for
    /// the retry). A hollow one goes with the build's other leftovers, which are handed back
    /// to be dropped when the run ends.
    pub(crate) async fn evict(&self, verified: VerifiedIso) -> Option<Leftovers> {
        let VerifiedIso {
            streamed: _,
            leftovers,
            iso,
        } = verified;
        let iso_path = iso.path.clone();
        if self.fetcher.evict(iso).await {
            tracing::info!(path = %iso_path.display(), "published ISO removed from the download cache");
        }
        leftovers
    }
}

/// Files of one download that only its build needs: removed when the build ends, however.
/// If the process dies first, the next download sweeps them (the lease says they are in use
/// until then).
pub(crate) struct Leftovers {
    hollow_iso: Option<std::path::PathBuf>,
    stream_dir: std::path::PathBuf,
    _lease: Option<repack_fetch::DownloadLease>,
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        if let Some(path) = &self.hollow_iso
            && let Err(error) = std::fs::remove_file(path)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), %error, "cannot remove the hollow ISO");
        }
        if let Err(error) = std::fs::remove_dir_all(&self.stream_dir)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.stream_dir.display(), %error, "cannot remove the stream directory");
        }
    }
}
