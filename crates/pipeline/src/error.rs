//! The pipeline's error: which stage failed, with the stage's own error as the cause.

/// Occurs when a build stops; the variant names the stage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    #[error("checking upstream failed")]
    Watch(#[from] repack_watch::WatchError),
    #[error("download failed")]
    Fetch(#[from] repack_fetch::FetchError),
    /// Occurs when the release is not vouched for by a signature from a pinned key.
    #[error("the release is not vouched for by a key the recipe pins")]
    Trust(#[from] crate::trust::TrustFailure),
    /// Occurs when the verified ISO cannot be made into a release (repack-assemble's error
    /// names the step: reading the ISO, the initrd and its lint, the boot hook, a name
    /// clash, laying out, streamed root images, kernel and modules).
    #[error(transparent)]
    Build(#[from] repack_assemble::BuildError),
    /// Occurs when the staging directory cannot be created.
    #[error("laying out the release failed")]
    Assemble(#[from] repack_assemble::AssembleError),
    /// Occurs when the download stored a root image only as parts (a hollow ISO) and the
    /// ISO's signature cannot be checked; nothing was published, and the next run downloads
    /// again.
    #[error("the root images streamed during the download cannot be used: {detail}")]
    StreamIncomplete { detail: String },
    #[error("publishing failed")]
    Publish(#[from] repack_publish::PublishError),
    #[error("the catalogue failed")]
    Catalog(#[from] repack_catalog::CatalogError),
    #[error("rendering the menu failed")]
    Menu(#[from] repack_menu::MenuError),
    #[error("a build task failed: {0}")]
    Task(String),
    /// Occurs when the release was published and made current, but the menu could not be
    /// regenerated: the catalogue changed, the old `menu.ipxe` stays until a menu renders.
    #[error(
        "{tag} was published in {location} and is current, but menu.ipxe could not be regenerated"
    )]
    MenuAfterPublish {
        tag: String,
        location: String,
        #[source]
        source: Box<PipelineError>,
    },
}

impl PipelineError {
    /// True when the failure came after the release was published and made current (the
    /// catalogue changed); every other failure leaves the published tree and catalogue as
    /// they were.
    pub fn published_anyway(&self) -> bool {
        matches!(self, PipelineError::MenuAfterPublish { .. })
    }

    /// A stable identifier of the failure, stored as the recipe's last error and used as a
    /// metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            PipelineError::Watch(error) => error.kind(),
            PipelineError::Fetch(error) => error.kind(),
            PipelineError::Trust(error) => error.kind(),
            PipelineError::Build(error) => error.kind(),
            PipelineError::Assemble(error) => error.kind(),
            PipelineError::StreamIncomplete { .. } => "stream-incomplete",
            PipelineError::Publish(error) => error.kind(),
            PipelineError::Catalog(error) => error.kind(),
            PipelineError::Menu(error) => error.kind(),
            PipelineError::Task(_) => "task",
            PipelineError::MenuAfterPublish { .. } => "menu-after-publish",
        }
    }
}

/// The error and all its causes on one line, as stored in the catalogue.
pub(crate) fn describe_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
