//! A stand-in HTTP server on 127.0.0.1 whose faults each test sets up: files with
//! validators, a connection cut after N bytes, ignored or wrong ranges, temporary 503s.
//! It answers `Range: bytes=N-` itself and, like tower-http's `ServeDir`, ignores
//! `If-Range`. It answers `If-None-Match` (by the file's ETag) and, without it,
//! `If-Modified-Since` (by equal `Last-Modified` text) with 304 and no body. Every request is
//! recorded with what was sent back, and the most requests it ever had in flight at once is
//! kept.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use futures_util::stream;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One file the server knows, and the faults to inject when serving it.
#[derive(Debug, Clone, Default)]
pub struct FileSpec {
    pub data: Bytes,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_type: Option<String>,
    /// Send only this many body bytes of the next reply, then drop the connection (one-shot).
    pub cut_after: Option<usize>,
    /// Reply 200 with the whole file even when a range is asked for.
    pub ignore_range: bool,
    /// Answer ranges with a `Content-Range` that starts one byte early.
    pub wrong_content_range: bool,
    /// Answer this many requests with 503 first.
    pub fail_times: usize,
    /// Send the body chunked, without `Content-Length`.
    pub chunked: bool,
    /// Claim this `Content-Encoding` (the bytes are sent as they are).
    pub content_encoding: Option<String>,
    /// Wait this long before answering (requests overlap meanwhile).
    pub delay: Option<Duration>,
}

impl FileSpec {
    pub fn new(data: impl Into<Bytes>) -> FileSpec {
        FileSpec {
            data: data.into(),
            etag: Some("\"v1\"".to_owned()),
            last_modified: Some("Mon, 04 Nov 2024 10:00:00 GMT".to_owned()),
            ..FileSpec::default()
        }
    }
}

/// What one request asked for and what it got.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub range: Option<String>,
    pub if_range: Option<String>,
    pub accept_encoding: Option<String>,
    pub user_agent: Option<String>,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
    pub status: u16,
    /// Body bytes the server put on the wire.
    pub sent: usize,
}

#[derive(Default)]
struct Shared {
    files: Mutex<HashMap<String, FileSpec>>,
    requests: Mutex<Vec<Recorded>>,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
}

pub struct TestServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let shared = Arc::new(Shared::default());
        let app = Router::new().fallback(serve).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        TestServer { addr, shared }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn put(&self, path: &str, spec: FileSpec) {
        self.shared
            .files
            .lock()
            .unwrap()
            .insert(path.to_owned(), spec);
    }

    /// Changes the spec of a file already put.
    pub fn update(&self, path: &str, change: impl FnOnce(&mut FileSpec)) {
        change(self.shared.files.lock().unwrap().get_mut(path).unwrap());
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Body bytes put on the wire so far, over every request.
    pub fn body_bytes_sent(&self) -> usize {
        self.requests().iter().map(|request| request.sent).sum()
    }

    /// The most requests that were being answered at the same time.
    pub fn most_in_flight(&self) -> usize {
        self.shared.most_in_flight.load(Ordering::SeqCst)
    }
}

fn text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn serve(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.most_in_flight.fetch_max(now, Ordering::SeqCst);
    let delay = shared
        .files
        .lock()
        .unwrap()
        .get(request.uri().path())
        .and_then(|file| file.delay);
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let headers = request.headers();
    let mut recorded = Recorded {
        path: request.uri().path().to_owned(),
        range: text(headers, header::RANGE),
        if_range: text(headers, header::IF_RANGE),
        accept_encoding: text(headers, header::ACCEPT_ENCODING),
        user_agent: text(headers, header::USER_AGENT),
        if_none_match: text(headers, header::IF_NONE_MATCH),
        if_modified_since: text(headers, header::IF_MODIFIED_SINCE),
        status: 0,
        sent: 0,
    };
    let (response, status, sent) = respond(&shared, &recorded);
    recorded.status = status;
    recorded.sent = sent;
    shared.requests.lock().unwrap().push(recorded);
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

fn respond(shared: &Shared, request: &Recorded) -> (Response, u16, usize) {
    let mut files = shared.files.lock().unwrap();
    let Some(file) = files.get_mut(&request.path) else {
        let body = "<html><body>404 Not Found</body></html>";
        let response = Response::builder()
            .status(StatusCode::NOT_FOUND)
            .header(header::CONTENT_TYPE, "text/html")
            .body(Body::from(body))
            .unwrap();
        return (response, 404, body.len());
    };
    if file.fail_times > 0 {
        file.fail_times -= 1;
        let response = Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .body(Body::empty())
            .unwrap();
        return (response, 503, 0);
    }
    let len = file.data.len();
    let start = request
        .range
        .as_deref()
        .filter(|_| !file.ignore_range)
        .and_then(|range| range.strip_prefix("bytes="))
        .and_then(|range| range.strip_suffix('-'))
        .and_then(|start| start.parse::<usize>().ok());
    let mut builder = Response::builder().header(header::ACCEPT_RANGES, "bytes");
    if let Some(etag) = &file.etag {
        builder = builder.header(header::ETAG, etag);
    }
    if let Some(modified) = &file.last_modified {
        builder = builder.header(header::LAST_MODIFIED, modified);
    }
    if let Some(coding) = &file.content_encoding {
        builder = builder.header(header::CONTENT_ENCODING, coding);
    }
    if let Some(content_type) = &file.content_type {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    let unchanged = match (&request.if_none_match, &request.if_modified_since) {
        (Some(tags), _) => file.etag.as_ref().is_some_and(|etag| {
            tags.split(',')
                .any(|tag| tag.trim() == "*" || tag.trim() == etag)
        }),
        (None, Some(since)) => file.last_modified.as_ref() == Some(since),
        (None, None) => false,
    };
    if unchanged {
        let response = builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .unwrap();
        return (response, 304, 0);
    }
    let (status, body) = match start {
        Some(start) if start >= len => {
            let response = builder
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{len}"))
                .body(Body::empty())
                .unwrap();
            return (response, 416, 0);
        }
        Some(start) => {
            let shown = if file.wrong_content_range {
                start.saturating_sub(1)
            } else {
                start
            };
            builder = builder.status(StatusCode::PARTIAL_CONTENT).header(
                header::CONTENT_RANGE,
                format!("bytes {shown}-{}/{len}", len - 1),
            );
            (206, file.data.slice(start..))
        }
        None => (200, file.data.clone()),
    };
    if !file.chunked {
        builder = builder.header(header::CONTENT_LENGTH, body.len());
    }
    let builder = builder.status(status);
    match file.cut_after.take() {
        Some(cut) if cut < body.len() => {
            let head = body.slice(..cut);
            let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
                Ok(head),
                Err(std::io::Error::other("test server cuts the connection")),
            ];
            let response = builder
                .body(Body::from_stream(stream::iter(chunks)))
                .unwrap();
            (response, status, cut)
        }
        _ => {
            let sent = body.len();
            let body = if file.chunked {
                let chunks: Vec<Result<Bytes, std::io::Error>> = body
                    .chunks(1000)
                    .map(|c| Ok(Bytes::copy_from_slice(c)))
                    .collect();
                Body::from_stream(stream::iter(chunks))
            } else {
                Body::from(body)
            };
            (builder.body(body).unwrap(), status, sent)
        }
    }
}
