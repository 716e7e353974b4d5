//! A stand-in for upstream *feeds* on 127.0.0.1: checksum lists, directory listings, JSON and
//! YAML documents, and a GitHub REST API.
//!
//! Unlike [`crate::upstream`] (which serves ISOs with Range and faults), a feed server answers
//! each path — or path *and query*, so the pages of a paginated API can differ — with a
//! prepared reply: status, content type, extra headers (`Link`), body. Everything else is a
//! plain 404. Every request is logged with its query and whether it carried an
//! `Authorization` header (never its value), so tests can assert what a watcher asked for.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One prepared reply.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// 200 with `body` as `text/plain; charset=utf-8`.
    pub fn text(body: impl Into<String>) -> Reply {
        Reply::with_type("text/plain; charset=utf-8", body.into().into_bytes())
    }

    /// 200 with `body` as `text/html`.
    pub fn html(body: impl Into<String>) -> Reply {
        Reply::with_type("text/html; charset=utf-8", body.into().into_bytes())
    }

    /// 200 with `body` as `application/json`.
    pub fn json(body: impl Into<String>) -> Reply {
        Reply::with_type("application/json", body.into().into_bytes())
    }

    /// 200 with raw bytes of the given content type.
    pub fn with_type(content_type: &str, body: Vec<u8>) -> Reply {
        Reply {
            status: 200,
            content_type: content_type.to_owned(),
            headers: Vec::new(),
            body,
        }
    }

    /// The same reply with another status.
    pub fn status(mut self, status: u16) -> Reply {
        self.status = status;
        self
    }

    /// The same reply with one more header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// One request as the feed server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedRequest {
    pub path: String,
    pub query: Option<String>,
    /// An `Authorization` header was sent (its value is not kept).
    pub authorized: bool,
    pub status: u16,
}

/// Rewrites every body on the way out (CRLF line ends, a byte-order mark, ...).
pub type BodyFilter = fn(&[u8]) -> Vec<u8>;

#[derive(Default)]
struct Shared {
    replies: Mutex<HashMap<String, Reply>>,
    log: Mutex<Vec<FeedRequest>>,
    everything: Mutex<Option<Reply>>,
    filter: Mutex<Option<BodyFilter>>,
}

/// A running feed server; it stops when the test's runtime ends.
#[derive(Clone)]
pub struct FeedServer {
    base: String,
    shared: Arc<Shared>,
}

impl FeedServer {
    /// Starts an empty feed server on a free port of 127.0.0.1.
    pub async fn start() -> FeedServer {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .fallback(serve)
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let base = format!("http://{}/", listener.local_addr().expect("local address"));
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("feed server");
        });
        FeedServer { base, shared }
    }

    /// `http://127.0.0.1:PORT/` (with the trailing slash).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Answers `path` (`/a/b`, optionally with `?query`) with `reply`. A reply registered
    /// with a query is preferred over one for the bare path.
    pub fn put(&self, path: &str, reply: Reply) {
        assert!(path.starts_with('/'), "feed paths start with `/`: {path}");
        self.shared
            .replies
            .lock()
            .expect("replies lock")
            .insert(path.to_owned(), reply);
    }

    /// Forgets every reply (the server then answers 404 everywhere).
    pub fn clear(&self) {
        self.shared.replies.lock().expect("replies lock").clear();
    }

    /// Answers *every* request with `reply` (an outage page, a captive portal), until
    /// called with `None`.
    pub fn answer_everything(&self, reply: Option<Reply>) {
        *self.shared.everything.lock().expect("everything lock") = reply;
    }

    /// Passes every body through `filter` before it is sent, until called with `None`.
    pub fn filter_bodies(&self, filter: Option<BodyFilter>) {
        *self.shared.filter.lock().expect("filter lock") = filter;
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<FeedRequest> {
        self.shared.log.lock().expect("log lock").clone()
    }
}

async fn serve(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let authorized = request.headers().contains_key(header::AUTHORIZATION);
    let everything = shared.everything.lock().expect("everything lock").clone();
    let reply = everything.or_else(|| {
        let replies = shared.replies.lock().expect("replies lock");
        query
            .as_ref()
            .and_then(|query| replies.get(&format!("{path}?{query}")))
            .or_else(|| replies.get(&path))
            .cloned()
    });
    let reply = reply.unwrap_or_else(|| Reply::text("not found\n").status(404));
    shared.log.lock().expect("log lock").push(FeedRequest {
        path,
        query,
        authorized,
        status: reply.status,
    });
    let filter = *shared.filter.lock().expect("filter lock");
    let body = match filter {
        Some(filter) => filter(&reply.body),
        None => reply.body,
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(reply.status).expect("valid status");
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&reply.content_type).expect("valid content type"),
    );
    for (name, value) in reply.headers {
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).expect("valid header name"),
            HeaderValue::from_str(&value).expect("valid header value"),
        );
    }
    response
}
