//! `repack publish github`: publish an already built release directory (its manifest.json),
//! or exactly the files given, as a GitHub release — through the same publisher the
//! pipeline uses.

use crate::cli::{PublishCommand, PublishGitHubArgs};
use crate::config::Config;
use anyhow::{Context, Result, bail};
use repack_publish::{Published, Publisher, StagedRelease};
use std::process::ExitCode;

pub async fn run(config: &Config, command: PublishCommand) -> Result<ExitCode> {
    match command {
        PublishCommand::Github(args) => github(config, args).await,
    }
}

async fn github(config: &Config, args: PublishGitHubArgs) -> Result<ExitCode> {
    let mut settings = config.github.clone();
    if let Some(repo) = args.repo {
        settings.repo = Some(repo);
    }
    if let Some(url) = args.api_url {
        settings.api_url = url;
    }
    if let Some(url) = args.uploads_url {
        settings.uploads_url = url;
    }
    let publisher =
        crate::services::github_publisher(&settings, None, &|name| std::env::var(name).ok())?;
    let published: Published = match &args.tag {
        Some(tag) => publisher
            .publish_files(tag, &args.paths)
            .await
            .with_context(|| format!("cannot publish release {tag} to {}", publisher.repo()))?,
        None => {
            let [dir] = args.paths.as_slice() else {
                bail!("give one release directory, or --tag TAG and the files to publish");
            };
            let release = StagedRelease::open(dir).with_context(|| {
                format!("{} is not a complete release directory", dir.display())
            })?;
            let tag = repack_publish::GitHubPublisher::release_tag(release.recipe(), release.tag());
            publisher
                .publish(release)
                .await
                .with_context(|| format!("cannot publish release {tag} to {}", publisher.repo()))?
        }
    };
    if args.json {
        let document = serde_json::json!({
            "repo": publisher.repo(),
            "location": published.location,
            "newly_published": published.newly_published,
        });
        println!("{document}");
    } else {
        println!("{}", published.location);
        if published.newly_published {
            eprintln!("published to {}", publisher.repo());
        } else {
            eprintln!("already published in {}; nothing changed", publisher.repo());
        }
    }
    Ok(ExitCode::SUCCESS)
}
