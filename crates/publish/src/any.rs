//! [`AnyPublisher`]: the publisher the configuration chose (`publisher = "directory" | "github"`).

use crate::{
    DirectoryPublisher, GitHubPublisher, Protection, PublishError, Published, PublishedPart,
    Publisher, StagedRelease,
};

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
        protection: &Protection,
    ) -> Result<Vec<String>, PublishError> {
        match self {
            AnyPublisher::Directory(publisher) => publisher.prune(recipe, protection).await,
            AnyPublisher::GitHub(publisher) => publisher.prune(recipe, protection).await,
        }
    }

    async fn still_published(&self, parts: &[PublishedPart]) -> Result<Vec<bool>, PublishError> {
        match self {
            AnyPublisher::Directory(publisher) => publisher.still_published(parts).await,
            AnyPublisher::GitHub(publisher) => publisher.still_published(parts).await,
        }
    }
}
