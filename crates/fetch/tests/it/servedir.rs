//! Resume against tower-http's `ServeDir`, the server the project's own test fixtures and
//! `repack serve` use: it sends Last-Modified (no ETag) and ignores `If-Range`.

use crate::{data, digest, fetcher};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use bytes::Bytes;
use futures_util::stream;
use repack_fetch::NoopReporter;
use std::sync::{Arc, Mutex};
use tower_http::services::ServeDir;

#[derive(Default)]
struct Faults {
    /// Cut the next reply after this many bytes.
    cut_after: Mutex<Option<usize>>,
    /// `Range` header of every request.
    ranges: Mutex<Vec<Option<String>>>,
}

async fn cut(State(faults): State<Arc<Faults>>, request: Request, next: Next) -> Response {
    let range = request
        .headers()
        .get("range")
        .map(|v| v.to_str().unwrap().to_owned());
    faults.ranges.lock().unwrap().push(range);
    let response = next.run(request).await;
    let Some(cut) = faults.cut_after.lock().unwrap().take() else {
        return response;
    };
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let chunks: Vec<Result<Bytes, std::io::Error>> =
        vec![Ok(body.slice(..cut)), Err(std::io::Error::other("cut"))];
    Response::from_parts(parts, Body::from_stream(stream::iter(chunks)))
}

#[tokio::test]
async fn resume_against_servedir_uses_last_modified() {
    let root = tempfile::tempdir().unwrap();
    let bytes = data(2_500_000, 21);
    std::fs::write(root.path().join("a.iso"), &bytes).unwrap();
    let faults = Arc::new(Faults::default());
    *faults.cut_after.lock().unwrap() = Some(777_777);
    let app = Router::new()
        .fallback_service(ServeDir::new(root.path()))
        .layer(middleware::from_fn_with_state(faults.clone(), cut));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let cache = tempfile::tempdir().unwrap();
    let fetched = fetcher(cache.path(), 1)
        .fetch_iso(
            &format!("http://{addr}/a.iso"),
            digest(&bytes),
            &NoopReporter,
        )
        .await
        .unwrap();
    assert_eq!(std::fs::read(&fetched.path).unwrap(), bytes);
    assert_eq!(
        *faults.ranges.lock().unwrap(),
        [None, Some("bytes=777777-".to_owned())]
    );
}
