//! The read-only routes: the status page, the JSON API, menus, health and metrics.
//!
//! JSON API (times in RFC 3339 UTC):
//! - `GET /api/v1/status`: one object per recipe, as `repack status --json` prints;
//! - `GET /api/v1/builds`: the current builds with their manifests;
//! - `GET /api/v1/recipes/{id}/builds`: every build of a recipe, newest first;
//! - `GET /api/v1/jobs?state=queued|running|succeeded|failed`: the newest 200 jobs.

use crate::hooks::refusal;
use crate::metrics::{self, BUILD_DURATION_BUCKETS, Snapshot};
use crate::{Server, page, status};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use repack_catalog::BuildRecord;
use repack_core::Arch;
use repack_menu::MenuOptions;
use repack_queue::{JobKind, JobRecord, JobState};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Most jobs `/api/v1/jobs` returns.
const MAX_JOBS_LISTED: usize = 200;

/// A failure reading the database, as a 503 that names what could not be read.
fn unavailable(what: &str, error: &dyn std::error::Error) -> Response {
    tracing::error!(%error, "cannot read {what}");
    refusal(
        StatusCode::SERVICE_UNAVAILABLE,
        "database-unavailable",
        format!("cannot read {what}: {error}"),
    )
}

async fn rows(server: &Server) -> Result<Vec<status::RecipeStatus>, Response> {
    let settings = &server.inner.settings;
    status::collect(
        &server.inner.catalog,
        &settings.recipes,
        &settings.public_url,
        OffsetDateTime::now_utc(),
        settings.stale_after,
    )
    .await
    .map_err(|error| unavailable("the catalogue", &error))
}

pub async fn status_page(State(server): State<Server>) -> Response {
    match rows(&server).await {
        Ok(rows) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            page::render(&rows, OffsetDateTime::now_utc()),
        )
            .into_response(),
        Err(response) => response,
    }
}

pub async fn status_json(State(server): State<Server>) -> Response {
    match rows(&server).await {
        Ok(rows) => Json(rows).into_response(),
        Err(response) => response,
    }
}

/// A build as the API shows it.
#[derive(Serialize)]
struct ApiBuild<'a> {
    recipe: &'a str,
    arch: &'a str,
    version: &'a str,
    tag: &'a str,
    location: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    manifest: &'a repack_core::Manifest,
}

fn api_builds(builds: &[BuildRecord]) -> Vec<ApiBuild<'_>> {
    builds
        .iter()
        .map(|build| ApiBuild {
            recipe: &build.recipe,
            arch: build.arch.as_str(),
            version: &build.version,
            tag: &build.tag,
            location: &build.location,
            created_at: build.created_at,
            manifest: &build.manifest,
        })
        .collect()
}

pub async fn current_builds(State(server): State<Server>) -> Response {
    match server.inner.catalog.current_builds().await {
        Ok(builds) => Json(api_builds(&builds)).into_response(),
        Err(error) => unavailable("the current builds", &error),
    }
}

pub async fn recipe_builds(State(server): State<Server>, Path(recipe): Path<String>) -> Response {
    match server.inner.catalog.builds(&recipe).await {
        Ok(builds) => Json(api_builds(&builds)).into_response(),
        Err(error) => unavailable("the builds", &error),
    }
}

#[derive(Deserialize)]
pub struct JobFilter {
    state: Option<String>,
}

#[derive(Serialize)]
struct ApiJob {
    id: i64,
    kind: &'static str,
    recipe: String,
    reason: &'static str,
    state: &'static str,
    attempts: u32,
    max_attempts: u32,
    #[serde(with = "time::serde::rfc3339")]
    run_at: OffsetDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    lease_owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_error: Option<serde_json::Value>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

impl From<JobRecord> for ApiJob {
    fn from(job: JobRecord) -> ApiJob {
        ApiJob {
            id: job.id.0,
            kind: job.kind.as_str(),
            recipe: job.recipe,
            reason: job.reason.as_str(),
            state: job.state.as_str(),
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            run_at: job.run_at,
            lease_owner: job.lease.map(|lease| lease.owner),
            last_error: job
                .last_error
                .map(|error| serde_json::json!({ "kind": error.kind, "message": error.message })),
            created_at: job.created_at,
            updated_at: job.updated_at,
        }
    }
}

pub async fn jobs(State(server): State<Server>, Query(filter): Query<JobFilter>) -> Response {
    let state = match filter.state.as_deref() {
        None => None,
        Some(name) => match JobState::parse(name) {
            Some(state) => Some(state),
            None => {
                return refusal(
                    StatusCode::BAD_REQUEST,
                    "bad-query",
                    format!("unknown job state `{name}`: queued, running, succeeded or failed"),
                );
            }
        },
    };
    match server.inner.queue.jobs(state).await {
        Ok(mut jobs) => {
            jobs.sort_by_key(|job| std::cmp::Reverse(job.id.0));
            jobs.truncate(MAX_JOBS_LISTED);
            Json(jobs.into_iter().map(ApiJob::from).collect::<Vec<_>>()).into_response()
        }
        Err(error) => unavailable("the jobs", &error),
    }
}

/// `/menu.ipxe`: every current build.
pub async fn menu(State(server): State<Server>) -> Response {
    render_menu(&server, None).await
}

/// `/menu/{arch}.ipxe`: the current builds of one architecture (`x86_64`, `arm64`).
pub async fn arch_menu(State(server): State<Server>, Path(file): Path<String>) -> Response {
    let Some(arch) = file.strip_suffix(".ipxe").and_then(Arch::parse) else {
        return refusal(
            StatusCode::NOT_FOUND,
            "unknown-menu",
            format!("no menu `{file}`: try x86_64.ipxe or arm64.ipxe"),
        );
    };
    render_menu(&server, Some(arch)).await
}

async fn render_menu(server: &Server, arch: Option<Arch>) -> Response {
    let builds = match server.inner.catalog.current_builds().await {
        Ok(builds) => builds,
        Err(error) => return unavailable("the current builds", &error),
    };
    let builds: Vec<BuildRecord> = builds
        .into_iter()
        .filter(|build| arch.is_none_or(|arch| build.arch == arch))
        .collect();
    let script = status::menu_entries(&builds).and_then(|entries| {
        let options = MenuOptions::new(&server.inner.settings.public_url)?;
        Ok(repack_menu::render_ipxe(&entries, &options))
    });
    match script {
        Ok(script) => (
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            script,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot render the menu");
            refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                error.kind(),
                format!("cannot render the menu: {error}"),
            )
        }
    }
}

/// `/healthz`: 200 when the database answers, 503 otherwise.
pub async fn health(State(server): State<Server>) -> Response {
    match server.inner.queue.pending().await {
        Ok(pending) => {
            Json(serde_json::json!({ "status": "ok", "pending_jobs": pending })).into_response()
        }
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "unavailable", "error": error.to_string() })),
        )
            .into_response(),
    }
}

pub async fn metrics(State(server): State<Server>) -> Response {
    let inner = &server.inner;
    let bounds_ms: Vec<u64> = BUILD_DURATION_BUCKETS.iter().map(|s| s * 1000).collect();
    let (jobs, durations, totals) = match tokio::try_join!(
        async {
            inner
                .queue
                .job_counts()
                .await
                .map_err(|e| unavailable("the jobs", &e))
        },
        async {
            inner
                .queue
                .duration_histogram(JobKind::Build, &bounds_ms)
                .await
                .map_err(|e| unavailable("the jobs", &e))
        },
        async {
            inner
                .catalog
                .build_totals()
                .await
                .map_err(|e| unavailable("the builds", &e))
        },
    ) {
        Ok(read) => read,
        Err(response) => return response,
    };
    let recipes = match rows(&server).await {
        Ok(rows) => rows,
        Err(response) => return response,
    };
    let text = metrics::render(&Snapshot {
        jobs: &jobs,
        build_durations: &durations,
        totals: &totals,
        recipes: &recipes,
        process: &inner.counters,
    });
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
