//! A stand-in for an upstream mirror on 127.0.0.1, with the faults real mirrors have.
//!
//! Files are served with `Content-Length`, `ETag`, `Last-Modified` and single-range
//! `Range: bytes=N-[M]` support. Every request is logged (path, Range header, status, bytes
//! planned and really sent) so tests can assert what a client really asked for and got.
//! Faults: flip one byte of a file, serve a file truncated, cut every response after N body
//! bytes (the connection drops), or answer everything with 503. A throttle
//! ([`Upstream::set_rate`]) paces every body, so a download lasts long enough for a test to
//! act in the middle of it; by default bodies go out as fast as the client takes them.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::stream;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// How one URL path is served.
#[derive(Debug, Clone)]
pub struct Served {
    pub source: Source,
    /// XOR this byte offset with 0xff on the way out (a corrupted mirror).
    pub flip_byte_at: Option<u64>,
    /// Pretend the file ends here (a truncated mirror copy).
    pub truncate_to: Option<u64>,
}

/// Where a served file's bytes come from.
#[derive(Debug, Clone)]
pub enum Source {
    File(PathBuf),
    Bytes(Bytes),
}

impl Served {
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Served {
            source: Source::File(path.into()),
            flip_byte_at: None,
            truncate_to: None,
        }
    }

    pub fn text(text: impl Into<String>) -> Self {
        Served {
            source: Source::Bytes(Bytes::from(text.into())),
            flip_byte_at: None,
            truncate_to: None,
        }
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    pub path: String,
    pub range: Option<String>,
    pub status: u16,
    /// Body bytes the server tried to send (before any cut).
    pub planned_bytes: u64,
    /// Body bytes handed to the connection so far (after any cut; a body still streaming
    /// counts what has gone out when the log is read). The client may not have read the
    /// last few hundred KiB of it when it dies: they sit in socket buffers.
    pub sent_bytes: u64,
}

impl LoggedRequest {
    /// The first byte an open-ended `Range: bytes=N-` asked for; `None` without one.
    pub fn range_start(&self) -> Option<u64> {
        self.range
            .as_deref()?
            .strip_prefix("bytes=")?
            .strip_suffix('-')?
            .parse()
            .ok()
    }
}

#[derive(Default)]
struct Faults {
    cut_after: Option<u64>,
    unavailable: bool,
    /// Bytes per second per response; `None` is unthrottled.
    rate: Option<u64>,
}

/// A logged request, with the counter its body stream advances.
struct LogEntry {
    request: LoggedRequest,
    sent: Arc<AtomicU64>,
}

#[derive(Default)]
struct Shared {
    files: Mutex<HashMap<String, Served>>,
    log: Mutex<Vec<LogEntry>>,
    faults: Mutex<Faults>,
}

/// A running upstream; it stops when the test's runtime ends.
#[derive(Clone)]
pub struct Upstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Upstream {
    /// Starts an empty upstream on a free port of 127.0.0.1.
    pub async fn start() -> Upstream {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .fallback(serve)
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("upstream server");
        });
        Upstream { addr, shared }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Serves `served` at `path` (which starts with `/`).
    pub fn put(&self, path: &str, served: Served) {
        self.shared
            .files
            .lock()
            .expect("files lock")
            .insert(path.to_owned(), served);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared
            .log
            .lock()
            .expect("log lock")
            .iter()
            .map(|entry| LoggedRequest {
                sent_bytes: entry.sent.load(Ordering::Relaxed),
                ..entry.request.clone()
            })
            .collect()
    }

    /// Requests for `path` so far.
    pub fn requests_for(&self, path: &str) -> Vec<LoggedRequest> {
        self.requests()
            .into_iter()
            .filter(|request| request.path == path)
            .collect()
    }

    /// Drops every response's connection after `bytes` body bytes (`None` heals it).
    pub fn cut_responses_after(&self, bytes: Option<u64>) {
        self.shared.faults.lock().expect("faults lock").cut_after = bytes;
    }

    /// Answers every request with 503 while `true`.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.shared.faults.lock().expect("faults lock").unavailable = unavailable;
    }

    /// Paces every response body that starts from now on to `bytes_per_second` (`None`, the
    /// default, sends as fast as the client reads). Panics on a rate of 0.
    pub fn set_rate(&self, bytes_per_second: Option<u64>) {
        assert_ne!(
            bytes_per_second,
            Some(0),
            "a rate of 0 would never send a byte"
        );
        self.shared.faults.lock().expect("faults lock").rate = bytes_per_second;
    }
}

async fn serve(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let range = request
        .headers()
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let (cut_after, unavailable, rate) = {
        let faults = shared.faults.lock().expect("faults lock");
        (faults.cut_after, faults.unavailable, faults.rate)
    };
    let served = shared.files.lock().expect("files lock").get(&path).cloned();
    let log = |status: StatusCode, planned_bytes: u64| {
        let sent = Arc::new(AtomicU64::new(0));
        shared.log.lock().expect("log lock").push(LogEntry {
            request: LoggedRequest {
                path: path.clone(),
                range: range.clone(),
                status: status.as_u16(),
                planned_bytes,
                sent_bytes: 0,
            },
            sent: Arc::clone(&sent),
        });
        sent
    };
    if unavailable {
        log(StatusCode::SERVICE_UNAVAILABLE, 0);
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let Some(served) = served else {
        log(StatusCode::NOT_FOUND, 0);
        return StatusCode::NOT_FOUND.into_response();
    };
    let (full_len, modified) = match &served.source {
        Source::File(file) => {
            let metadata = tokio::fs::metadata(file).await.expect("served file exists");
            let modified = metadata
                .modified()
                .ok()
                .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|elapsed| elapsed.as_secs())
                .unwrap_or(0);
            (metadata.len(), modified)
        }
        Source::Bytes(bytes) => (bytes.len() as u64, 1_700_000_000),
    };
    let len = served.truncate_to.map_or(full_len, |cap| cap.min(full_len));
    let etag = format!(
        "\"{len:x}-{modified:x}-{}\"",
        served.flip_byte_at.unwrap_or(0)
    );
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, HeaderValue::from_str(&etag).expect("etag"));
    headers.insert(
        header::LAST_MODIFIED,
        HeaderValue::from_str(&http_date(modified)).expect("date"),
    );
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));

    let (status, start, end) = match range.as_deref().and_then(|text| parse_range(text, len)) {
        Some((start, end)) => {
            headers.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes {start}-{}/{len}", end - 1)).expect("range"),
            );
            (StatusCode::PARTIAL_CONTENT, start, end)
        }
        None if range.is_some() => {
            log(StatusCode::RANGE_NOT_SATISFIABLE, 0);
            return StatusCode::RANGE_NOT_SATISFIABLE.into_response();
        }
        None => (StatusCode::OK, 0, len),
    };
    headers.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from_str(&(end - start).to_string()).expect("length"),
    );
    let sent = log(status, end - start);
    let body = body_stream(
        served,
        start,
        end,
        Pacing {
            cut_after,
            rate,
            sent,
        },
    );
    (status, headers, body).into_response()
}

/// `bytes=N-` or `bytes=N-M` within `len`; anything else is unsatisfiable.
fn parse_range(text: &str, len: u64) -> Option<(u64, u64)> {
    let spec = text.strip_prefix("bytes=")?;
    let (first, last) = spec.split_once('-')?;
    let start: u64 = first.parse().ok()?;
    let end = if last.is_empty() {
        len
    } else {
        last.parse::<u64>().ok()?.checked_add(1)?.min(len)
    };
    (start < end).then_some((start, end))
}

const CHUNK: usize = 64 * 1024;

/// How one body goes out: where it is cut, how fast, and the log's counter of what was sent.
struct Pacing {
    cut_after: Option<u64>,
    rate: Option<u64>,
    sent: Arc<AtomicU64>,
}

fn body_stream(served: Served, start: u64, end: u64, pacing: Pacing) -> Body {
    struct Cursor {
        served: Served,
        file: Option<tokio::fs::File>,
        position: u64,
        end: u64,
        sent: u64,
        cut_after: Option<u64>,
        rate: Option<u64>,
        logged: Arc<AtomicU64>,
        started: tokio::time::Instant,
    }
    let cursor = Cursor {
        served,
        file: None,
        position: start,
        end,
        sent: 0,
        cut_after: pacing.cut_after,
        rate: pacing.rate,
        logged: pacing.sent,
        started: tokio::time::Instant::now(),
    };
    let chunks = stream::unfold(cursor, |mut cursor| async move {
        if cursor.position >= cursor.end {
            return None;
        }
        if let Some(limit) = cursor.cut_after
            && cursor.sent >= limit
        {
            // An error mid-body makes the server drop the connection: the client sees a
            // transfer that ends early, as with a real network failure.
            let error = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "cut by test");
            cursor.position = cursor.end;
            return Some((Err(error), cursor));
        }
        let mut want = (cursor.end - cursor.position).min(CHUNK as u64) as usize;
        if let Some(limit) = cursor.cut_after {
            want = want.min((limit - cursor.sent) as usize).max(1);
        }
        let mut chunk = vec![0u8; want];
        match &cursor.served.source {
            Source::Bytes(bytes) => {
                let from = cursor.position as usize;
                chunk.copy_from_slice(&bytes[from..from + want]);
            }
            Source::File(path) => {
                if cursor.file.is_none() {
                    let mut file = tokio::fs::File::open(path).await.expect("served file");
                    file.seek(std::io::SeekFrom::Start(cursor.position))
                        .await
                        .expect("seek");
                    cursor.file = Some(file);
                }
                let file = cursor.file.as_mut().expect("file open");
                file.read_exact(&mut chunk).await.expect("read served file");
            }
        }
        if let Some(flip) = cursor.served.flip_byte_at
            && (cursor.position..cursor.position + want as u64).contains(&flip)
        {
            chunk[(flip - cursor.position) as usize] ^= 0xff;
        }
        cursor.position += want as u64;
        cursor.sent += want as u64;
        if let Some(rate) = cursor.rate {
            // The chunk leaves when the body's average rate since its start allows it.
            let due = Duration::from_secs_f64(cursor.sent as f64 / rate as f64);
            tokio::time::sleep_until(cursor.started + due).await;
        }
        cursor.logged.fetch_add(want as u64, Ordering::Relaxed);
        Some((Ok::<_, std::io::Error>(Bytes::from(chunk)), cursor))
    });
    Body::from_stream(chunks)
}

/// An RFC 7231 date for `Last-Modified`.
fn http_date(unix_seconds: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix_seconds / 86_400;
    let seconds = unix_seconds % 86_400;
    // Civil-from-days (proleptic Gregorian), valid for dates after 1970.
    let z = days as i64 + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_match_known_values() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_700_000_000), "Tue, 14 Nov 2023 22:13:20 GMT");
    }

    /// The whole response to `GET path` over a raw HTTP/1.1 connection, as bytes.
    async fn get(upstream: &Upstream, path: &str) -> Vec<u8> {
        use tokio::io::AsyncWriteExt;
        let mut stream = tokio::net::TcpStream::connect(upstream.addr).await.unwrap();
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        // A cut body ends in a reset: keep what arrived.
        let _ = stream.read_to_end(&mut response).await;
        response
    }

    #[tokio::test]
    async fn a_throttled_body_takes_its_time_and_the_log_counts_what_was_sent() {
        const LEN: usize = 256 * 1024;
        let upstream = Upstream::start().await;
        upstream.put("/f", Served::text("x".repeat(LEN)));
        // 1 MiB/s: 256 KiB take a quarter of a second.
        upstream.set_rate(Some(1 << 20));
        let started = std::time::Instant::now();
        let response = get(&upstream, "/f").await;
        let elapsed = started.elapsed();
        assert!(response.ends_with(&[b'x'; LEN]), "{} bytes", response.len());
        assert!(elapsed >= Duration::from_millis(240), "{elapsed:?}");

        upstream.set_rate(None);
        upstream.cut_responses_after(Some(1000));
        get(&upstream, "/f").await;
        let logged = upstream.requests_for("/f");
        let sent: Vec<(u64, u64)> = logged
            .iter()
            .map(|request| (request.planned_bytes, request.sent_bytes))
            .collect();
        assert_eq!(sent, [(LEN as u64, LEN as u64), (LEN as u64, 1000)]);
    }

    #[test]
    fn ranges_within_the_file() {
        assert_eq!(parse_range("bytes=10-", 100), Some((10, 100)));
        assert_eq!(parse_range("bytes=10-19", 100), Some((10, 20)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("items=1-", 100), None);
    }
}
