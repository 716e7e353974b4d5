//! The webhook endpoints: `POST /hooks/github`, `/hooks/gitlab`, `/hooks/forgejo`. Each
//! verifies the delivery ([`crate::webhooks`]: signature over the raw body first, then the
//! JSON), maps its repository to recipes ([`crate::Triggers`]), and in one transaction
//! records the delivery id and enqueues one build job per recipe (reason `webhook`, the
//! default dedupe key `build:<recipe>`, so a trigger for a recipe already waiting or building
//! collapses into that job): a replayed delivery id enqueues nothing. It answers 202 with
//! what it did as JSON, before any build starts; refusals answer the status the verification
//! chose and enqueue nothing.

use crate::Server;
use crate::metrics::DeliveryOutcome;
use crate::webhooks::{self, Event, Forge};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use repack_queue::{Delivered, JobKind, NewJob, Reason};
use serde::Serialize;

/// The JSON answer to an accepted delivery.
#[derive(Debug, Serialize)]
struct Accepted<'a> {
    delivery: &'a str,
    /// `enqueued`, `ignored` or `replayed`.
    outcome: &'static str,
    /// Why nothing was enqueued, for `ignored`.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    jobs: Vec<QueuedJob>,
}

#[derive(Debug, Serialize)]
struct QueuedJob {
    recipe: String,
    job: i64,
    /// False when a pending job for the recipe already existed (it will build the newest).
    created: bool,
}

pub async fn github(State(server): State<Server>, headers: HeaderMap, body: Bytes) -> Response {
    receive(server, Forge::GitHub, headers, body).await
}

pub async fn gitlab(State(server): State<Server>, headers: HeaderMap, body: Bytes) -> Response {
    receive(server, Forge::GitLab, headers, body).await
}

pub async fn forgejo(State(server): State<Server>, headers: HeaderMap, body: Bytes) -> Response {
    receive(server, Forge::Forgejo, headers, body).await
}

async fn receive(server: Server, forge: Forge, headers: HeaderMap, body: Bytes) -> Response {
    let counters = &server.inner.counters;
    let Some(secret) = server.inner.settings.secrets.for_forge(forge) else {
        counters.delivery(forge, DeliveryOutcome::Refused);
        return refusal(
            StatusCode::NOT_FOUND,
            "webhook-not-configured",
            format!("no secret is configured for {} webhooks", forge.as_str()),
        );
    };
    let delivery = match webhooks::receive(forge, &headers, &body, secret) {
        Ok(delivery) => delivery,
        Err(error) => {
            counters.delivery(forge, DeliveryOutcome::Refused);
            tracing::warn!(forge = forge.as_str(), kind = error.kind(), %error, "webhook refused");
            return refusal(error.status(), error.kind(), error.to_string());
        }
    };
    let (repository, ignored) = match &delivery.event {
        Event::Ping => (None, Some("ping".to_owned())),
        Event::Ignored { event, reason } => (None, Some(format!("{event}: {reason}"))),
        Event::Release { repository, .. } | Event::Tag { repository, .. } => {
            (Some(repository.as_str()), None)
        }
    };
    let recipes = repository.map_or(&[][..], |repository| {
        server
            .inner
            .settings
            .triggers
            .recipes_for(forge, repository)
    });
    let ignored = ignored.or_else(|| {
        recipes.is_empty().then(|| {
            format!(
                "no recipe is triggered by {} repository {}",
                forge.as_str(),
                repository.unwrap_or_default()
            )
        })
    });
    let jobs: Vec<NewJob> = recipes
        .iter()
        .map(|recipe| NewJob::new(JobKind::Build, recipe, Reason::Webhook))
        .collect();
    let delivered = match server
        .inner
        .queue
        .enqueue_delivery(forge.as_str(), &delivery.id, &jobs)
        .await
    {
        Ok(delivered) => delivered,
        Err(error) => {
            tracing::error!(forge = forge.as_str(), delivery = %delivery.id, %error, "webhook not enqueued");
            counters.delivery(forge, DeliveryOutcome::Refused);
            return refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                error.kind(),
                "the job queue is unavailable; redeliver later".to_owned(),
            );
        }
    };
    let accepted = match delivered {
        Delivered::Replayed => {
            counters.delivery(forge, DeliveryOutcome::Replayed);
            tracing::info!(forge = forge.as_str(), delivery = %delivery.id, "webhook replayed; nothing enqueued");
            Accepted {
                delivery: &delivery.id,
                outcome: "replayed",
                reason: None,
                jobs: Vec::new(),
            }
        }
        Delivered::New(enqueued) => {
            let jobs: Vec<QueuedJob> = recipes
                .iter()
                .zip(enqueued)
                .map(|(recipe, enqueued)| QueuedJob {
                    recipe: recipe.clone(),
                    job: enqueued.id().0,
                    created: enqueued.is_created(),
                })
                .collect();
            let outcome = if jobs.is_empty() {
                DeliveryOutcome::Ignored
            } else {
                DeliveryOutcome::Enqueued
            };
            counters.delivery(forge, outcome);
            tracing::info!(forge = forge.as_str(), delivery = %delivery.id, jobs = jobs.len(), "webhook accepted");
            Accepted {
                delivery: &delivery.id,
                outcome: if jobs.is_empty() {
                    "ignored"
                } else {
                    "enqueued"
                },
                reason: if jobs.is_empty() { ignored } else { None },
                jobs,
            }
        }
    };
    (StatusCode::ACCEPTED, axum::Json(accepted)).into_response()
}

/// A refusal as JSON: `{"error": kind, "message": …}`.
pub fn refusal(status: StatusCode, kind: &str, message: String) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "error": kind, "message": message })),
    )
        .into_response()
}
