//! The HTTP server one boot uses: the output directory (tower-http `ServeDir`, with Range)
//! plus the generated boot file, on a fresh port of 127.0.0.1, recording every request so a
//! report can say what the guest fetched. One server per boot, so parallel boots never see
//! each other's files; it stops when dropped.

use crate::error::BootGateError;
use crate::script::BOOT_FILE_PATH;
use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tower_http::services::ServeDir;

/// One request the guest made, in arrival order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedRequest {
    pub method: String,
    /// Path and query, as requested.
    pub uri: String,
    pub status: u16,
}

type RequestLog = Arc<Mutex<Vec<ServedRequest>>>;

pub(crate) struct Server {
    addr: SocketAddr,
    log: RequestLog,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Serves `dir` and, at [`BOOT_FILE_PATH`], `boot_file`.
    pub(crate) async fn start(dir: &Path, boot_file: String) -> Result<Server, BootGateError> {
        let log = RequestLog::default();
        let app = Router::new()
            .route(BOOT_FILE_PATH, get(move || async move { boot_file }))
            .fallback_service(ServeDir::new(dir))
            .layer(middleware::from_fn_with_state(Arc::clone(&log), record));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|source| BootGateError::Serve {
                dir: dir.to_owned(),
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| BootGateError::Serve {
                dir: dir.to_owned(),
                source,
            })?;
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::warn!(%error, "boot gate HTTP server stopped");
            }
        });
        Ok(Server { addr, log, task })
    }

    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }

    pub(crate) fn requests(&self) -> Vec<ServedRequest> {
        self.log.lock().expect("request log lock").clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn record(State(log): State<RequestLog>, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let uri = request.uri().to_string();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    tracing::debug!(%method, %uri, status, "guest request");
    log.lock().expect("request log lock").push(ServedRequest {
        method,
        uri,
        status,
    });
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn get(port: u16, path: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let request = format!("GET {path} HTTP/1.0\r\nHost: 10.0.2.100\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    #[tokio::test]
    async fn serves_the_directory_and_the_boot_file_and_records_requests() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("menu.ipxe"), "#!ipxe\necho menu\n").unwrap();
        let server = Server::start(dir.path(), "#!ipxe\nchain menu.ipxe\n".to_owned())
            .await
            .unwrap();
        let menu = get(server.port(), "/menu.ipxe").await;
        assert!(menu.starts_with("HTTP/1.0 200"), "{menu}");
        assert!(menu.ends_with("#!ipxe\necho menu\n"), "{menu}");
        let boot = get(server.port(), "/repack-bootgate.ipxe").await;
        assert!(boot.ends_with("#!ipxe\nchain menu.ipxe\n"), "{boot}");
        let missing = get(server.port(), "/nope?x=1").await;
        assert!(missing.starts_with("HTTP/1.0 404"), "{missing}");
        let requests: Vec<(String, u16)> = server
            .requests()
            .into_iter()
            .map(|request| (request.uri, request.status))
            .collect();
        assert_eq!(
            requests,
            [
                ("/menu.ipxe".to_owned(), 200),
                ("/repack-bootgate.ipxe".to_owned(), 200),
                ("/nope?x=1".to_owned(), 404)
            ]
        );
    }
}
