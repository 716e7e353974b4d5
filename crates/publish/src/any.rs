//! [`AnyPublisher`]: the publisher the configuration chose (`publisher = "directory" | "github"`).

use crate::{
    DirectoryPublisher, GitHubPublisher, PublishError, Published, Publisher, StagedRelease,
};
use std::collections::BTreeSet;

/// One of the publishers, chosen at start-up; the pipeline stays generic over [`Publisher`].
#[derive(Debug)]
pub enum AnyPublisher {
    Directory(DirectoryPublisher),
    // Boxed: it holds the HTTP client and settings; there is one per process.
    GitHub(Box<GitHubPublisher>),
}

impl Publisher for AnyPublisher {
    async fn publish(&self, release: StagedRelease) -> Result<Published, PublishError> {
        match self {
            AnyPublisher::Directory(publisher) => publisher.publish(release).await,
            AnyPublisher::GitHub(publisher) => publisher.publish(release).await,
        }
    }

    async fn publish_file(&self, name: &str, contents: Vec<u8>) -> Result<(), PublishError> {
        match self {
            AnyPublisher::Directory(publisher) => publisher.publish_file(name, contents).await,
            AnyPublisher::GitHub(publisher) => publisher.publish_file(name, contents).await,
        }
    }

    async fn prune(
        &self,
        recipe: &str,
        protected: &BTreeSet<String>,
    ) -> Result<Vec<String>, PublishError> {
        match self {
            AnyPublisher::Directory(publisher) => publisher.prune(recipe, protected).await,
            AnyPublisher::GitHub(publisher) => publisher.prune(recipe, protected).await,
        }
    }
}
