//! A feed stand-in that answers conditional requests, for the politeness tests: each path
//! has a body and validators; `If-None-Match` naming one of the path's current tags (or,
//! without it, `If-Modified-Since` equal to its `Last-Modified`) gets 304 and no body.
//! Every request is logged with its conditional headers, its status and the body bytes
//! sent.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One document.
#[derive(Debug, Clone, Default)]
pub struct Doc {
    pub body: String,
    /// Sent as `ETag` with every reply (304s too).
    pub etag: Option<String>,
    /// Tags an `If-None-Match` may name to get a 304 (besides `etag`): a server whose
    /// copies differ in tag but not in content.
    pub also_current: Vec<String>,
    pub last_modified: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Logged {
    pub path: String,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
    pub status: u16,
    pub body_bytes: usize,
}

#[derive(Default)]
struct Shared {
    docs: Mutex<HashMap<String, Doc>>,
    log: Mutex<Vec<Logged>>,
}

#[derive(Clone)]
pub struct Standin {
    base: String,
    shared: Arc<Shared>,
}

impl Standin {
    pub async fn start() -> Standin {
        let shared = Arc::new(Shared::default());
        let app = Router::new().fallback(serve).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Standin { base, shared }
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn put(&self, path: &str, doc: Doc) {
        self.shared
            .docs
            .lock()
            .unwrap()
            .insert(path.to_owned(), doc);
    }

    pub fn log(&self) -> Vec<Logged> {
        self.shared.log.lock().unwrap().clone()
    }

    pub fn body_bytes_sent(&self) -> usize {
        self.log().iter().map(|logged| logged.body_bytes).sum()
    }
}

async fn serve(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let text = |name| {
        request
            .headers()
            .get(name)
            .and_then(|value: &header::HeaderValue| value.to_str().ok())
            .map(str::to_owned)
    };
    let mut logged = Logged {
        path: request.uri().path().to_owned(),
        if_none_match: text(header::IF_NONE_MATCH),
        if_modified_since: text(header::IF_MODIFIED_SINCE),
        status: 404,
        body_bytes: 0,
    };
    let doc = shared.docs.lock().unwrap().get(&logged.path).cloned();
    let response = match doc {
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Body::empty())
            .unwrap(),
        Some(doc) => {
            let unchanged = match (&logged.if_none_match, &logged.if_modified_since) {
                (Some(tag), _) => doc.etag.as_ref() == Some(tag) || doc.also_current.contains(tag),
                (None, Some(since)) => doc.last_modified.as_ref() == Some(since),
                (None, None) => false,
            };
            let mut builder = Response::builder();
            if let Some(etag) = &doc.etag {
                builder = builder.header(header::ETAG, etag);
            }
            if let Some(modified) = &doc.last_modified {
                builder = builder.header(header::LAST_MODIFIED, modified);
            }
            if unchanged {
                logged.status = 304;
                builder
                    .status(StatusCode::NOT_MODIFIED)
                    .body(Body::empty())
                    .unwrap()
            } else {
                logged.status = 200;
                logged.body_bytes = doc.body.len();
                builder
                    .status(StatusCode::OK)
                    .body(Body::from(doc.body))
                    .unwrap()
            }
        }
    };
    shared.log.lock().unwrap().push(logged);
    response
}
