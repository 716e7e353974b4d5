//! repack-server: the service's HTTP face, `repack serve` (axum).
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the status page: one row per recipe, plain HTML |
//! | `POST /hooks/github`, `/hooks/gitlab`, `/hooks/forgejo` | webhooks → build jobs (202) |
//! | `GET /menu.ipxe`, `/menu/{arch}.ipxe` | the iPXE menu of the current builds |
//! | `GET /files/…` | the directory publisher's output, with Range and conditional requests |
//! | `GET /healthz` | 200 while the database answers |
//! | `GET /metrics` | Prometheus text |
//! | `GET /api/v1/…` | read-only JSON of the catalogue and the queue ([`api`]) |
//!
//! The server builds nothing: webhooks enqueue jobs on the catalogue's database and any
//! `repack worker` on that database runs them. It is handed its catalogue, queue and
//! settings by the composition root (`repack`'s `services`), like every entry point.

mod api;
mod hooks;
pub mod metrics;
pub mod page;
pub mod status;
mod triggers;
pub mod webhooks;

pub use triggers::{TriggerError, Triggers};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use repack_catalog::Catalog;
use repack_queue::Queue;
use std::path::PathBuf;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tower_http::services::ServeDir;
use webhooks::{Forge, WebhookSecret};

/// The webhook secrets, one per forge; a forge without one answers 404.
#[derive(Debug, Default)]
pub struct WebhookSecrets {
    pub github: Option<WebhookSecret>,
    pub gitlab: Option<WebhookSecret>,
    pub forgejo: Option<WebhookSecret>,
}

impl WebhookSecrets {
    pub fn for_forge(&self, forge: Forge) -> Option<&WebhookSecret> {
        match forge {
            Forge::GitHub => self.github.as_ref(),
            Forge::GitLab => self.gitlab.as_ref(),
            Forge::Forgejo => self.forgejo.as_ref(),
        }
    }
}

/// What the server needs besides the database.
#[derive(Debug)]
pub struct ServerSettings {
    /// How booting machines reach the published files: menus and file links use it.
    pub public_url: String,
    /// The directory publisher's output, served under `/files/`.
    pub output_dir: PathBuf,
    pub secrets: WebhookSecrets,
    pub triggers: Triggers,
    /// The recipes of the recipe directories (each gets a status row, checked or not).
    pub recipes: Vec<status::KnownRecipe>,
    /// When a recipe without a good check counts as stale.
    pub stale_after: time::Duration,
}

/// The server's shared state. Cheap to clone.
#[derive(Clone)]
pub struct Server {
    inner: Arc<Inner>,
}

struct Inner {
    catalog: Catalog,
    queue: Queue,
    settings: ServerSettings,
    counters: metrics::ProcessCounters,
}

impl Server {
    pub fn new(catalog: Catalog, queue: Queue, settings: ServerSettings) -> Server {
        Server {
            inner: Arc::new(Inner {
                catalog,
                queue,
                settings,
                counters: metrics::ProcessCounters::default(),
            }),
        }
    }

    /// Every route.
    pub fn router(&self) -> Router {
        let hooks = Router::new()
            .route("/hooks/github", post(hooks::github))
            .route("/hooks/gitlab", post(hooks::gitlab))
            .route("/hooks/forgejo", post(hooks::forgejo))
            .layer(DefaultBodyLimit::max(webhooks::MAX_BODY_BYTES));
        Router::new()
            .route("/", get(api::status_page))
            .route("/menu.ipxe", get(api::menu))
            .route("/menu/{file}", get(api::arch_menu))
            .route("/healthz", get(api::health))
            .route("/metrics", get(api::metrics))
            .route("/api/v1/status", get(api::status_json))
            .route("/api/v1/builds", get(api::current_builds))
            .route("/api/v1/recipes/{recipe}/builds", get(api::recipe_builds))
            .route("/api/v1/jobs", get(api::jobs))
            .merge(hooks)
            .nest_service("/files", ServeDir::new(&self.inner.settings.output_dir))
            .with_state(self.clone())
    }

    /// Serves on `listener` until `shutdown` is cancelled, then finishes open requests.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: CancellationToken,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
    }
}
