//! `repack run <recipe>`: build and publish the newest release of one recipe, in the
//! foreground. The build is enqueued as a job and this process works the queue until it is
//! empty, so a maintainer's run and the scheduled worker go through the same path: a build of
//! the same recipe already queued or running elsewhere is not started twice.

use crate::config::Config;
use crate::services::{BuildJobs, Services};
use anyhow::{Result, anyhow, bail};
use repack_core::Recipe;
use repack_pipeline::Outcome;
use repack_queue::{Enqueued, JobKind, JobState, NewJob, Reason, Worker, WorkerConfig};
use std::process::ExitCode;
use std::sync::Arc;

pub async fn run(config: &Config, recipe_id: &str) -> Result<ExitCode> {
    let recipe = Recipe::find(recipe_id, &config.recipe_dirs)?;
    repack_watch::WatchConfig::parse(&recipe)?;
    let services = Services::open(config).await?;
    let queue = services.queue();
    // A maintainer at the terminal sees a failure at once; running again is the retry.
    let job = NewJob {
        max_attempts: 1,
        ..NewJob::new(JobKind::Build, &recipe.id, Reason::Cli)
    };
    let id = match queue.enqueue(&job).await? {
        Enqueued::Created(id) => id,
        Enqueued::AlreadyPending(id) => {
            tracing::info!(recipe = %recipe.id, job = %id, "a build of this recipe is already queued or running; waiting for it");
            id
        }
    };
    let jobs = BuildJobs::new(&services, Arc::from(crate::reporter::for_terminal()));
    let worker = Worker::new(
        queue.clone(),
        jobs.clone(),
        WorkerConfig {
            until_idle: true,
            keep_finished: config.queue.keep_finished,
            ..WorkerConfig::default()
        },
    );
    worker.run(tokio_util::sync::CancellationToken::new()).await;
    let outcome = jobs.take_outcome(id);
    let record = queue.job(id).await?;
    services.close().await;
    match outcome {
        Some(Ok(Outcome::UpToDate { version, tag })) => {
            println!(
                "{}: nothing new upstream; {version} is published as {tag}",
                recipe.id
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(Ok(Outcome::Published {
            version,
            tag,
            location,
        })) => {
            println!(
                "{}: published {version} as {tag} in {}",
                recipe.id,
                config.output_dir.join(location).display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(Err(error)) => {
            let kind = error.kind();
            let what = if error.published_anyway() {
                "the release is published and current, but the step after it failed"
            } else {
                "nothing was published and the catalogue is unchanged"
            };
            Err(anyhow!(error).context(format!("building `{}` failed ({kind}); {what}", recipe.id)))
        }
        // Another process ran the job this run joined: report what it recorded.
        None => match record {
            Some(record) if record.state == JobState::Succeeded => {
                println!("{}: built by another worker (job {id})", recipe.id);
                Ok(ExitCode::SUCCESS)
            }
            Some(record) => bail!(
                "building `{}` in job {id} ended {:?}: {}",
                recipe.id,
                record.state,
                record
                    .last_error
                    .map(|error| format!("{}: {}", error.kind, error.message))
                    .unwrap_or_default()
            ),
            None => bail!("job {id} for `{}` disappeared from the queue", recipe.id),
        },
    }
}
