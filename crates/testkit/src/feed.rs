//! A stand-in for upstream *feeds* on 127.0.0.1: checksum lists, directory listings, JSON and
//! YAML documents, and a GitHub REST API.
//!
//! Unlike [`crate::upstream`] (which serves ISOs with Range and faults), a feed server answers
//! each path — or path *and query*, so the pages of a paginated API can differ — with a
//! prepared reply: status, content type, extra headers (`Link`), body. Everything else is a
//! plain 404. Every request is logged with its query, whether it carried an `Authorization`
//! header (never its value), whether it was conditional, its status and the body bytes sent,
//! so tests can assert what a watcher asked for and what it was told.
//!
//! Conditional requests are answered like an origin server does (RFC 9110, 13.1 and 13.2.2)
//! whenever a 200 reply carries validators, its own `ETag` / `Last-Modified` headers or, after
//! [`FeedServer::set_validators`], ones derived from the body: an `If-None-Match` naming the
//! reply's entity tag (weak comparison, lists and `*` included) or, only without
//! `If-None-Match`, an `If-Modified-Since` not earlier than its `Last-Modified` is answered
//! `304 Not Modified` with no body, the `ETag` and `Last-Modified` headers kept and every
//! other header (a `Link`, say) left out, as a real API's 304 may leave it out.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The `Last-Modified` of every 200 reply given validators by [`FeedServer::set_validators`]:
/// fixed, so the body's entity tag is what tells two versions of a document apart.
pub const VALIDATORS_LAST_MODIFIED: &str = "Mon, 04 Nov 2024 10:00:00 GMT";

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
    /// `If-None-Match` as sent, if it was.
    pub if_none_match: Option<String>,
    /// `If-Modified-Since` as sent, if it was.
    pub if_modified_since: Option<String>,
    /// The status answered: the prepared reply's, or 304 for a conditional request the
    /// document has not changed since.
    pub status: u16,
    /// Bytes of body sent (0 for a 304).
    pub body_bytes: usize,
}

impl FeedRequest {
    /// The request carried `If-None-Match` or `If-Modified-Since`.
    pub fn conditional(&self) -> bool {
        self.if_none_match.is_some() || self.if_modified_since.is_some()
    }

    /// It was answered `304 Not Modified` (and no body was sent).
    pub fn not_modified(&self) -> bool {
        self.status == 304
    }

    /// The path with its query, as given to [`FeedServer::put`] (`/a/b?page=2`).
    pub fn path_and_query(&self) -> String {
        match &self.query {
            Some(query) => format!("{}?{query}", self.path),
            None => self.path.clone(),
        }
    }
}

/// Rewrites every body on the way out (CRLF line ends, a byte-order mark, ...).
pub type BodyFilter = fn(&[u8]) -> Vec<u8>;

#[derive(Default)]
struct Shared {
    replies: Mutex<HashMap<String, Reply>>,
    log: Mutex<Vec<FeedRequest>>,
    everything: Mutex<Option<Reply>>,
    filter: Mutex<Option<BodyFilter>>,
    validators: Mutex<bool>,
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

    /// With `true`, every 200 reply without an `ETag` gets one derived from the body it
    /// sends (a strong tag of its SHA-256), and every one without a `Last-Modified` gets
    /// [`VALIDATORS_LAST_MODIFIED`]; conditional requests are then answered with 304 while
    /// the body stays the same. `false` (the default) sends only the validators a reply
    /// carries itself.
    pub fn set_validators(&self, on: bool) {
        *self.shared.validators.lock().expect("validators lock") = on;
    }

    /// The absolute URL a logged request asked for (`base` + path + query).
    pub fn url_of(&self, request: &FeedRequest) -> String {
        format!(
            "{}{}",
            self.base.trim_end_matches('/'),
            request.path_and_query()
        )
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<FeedRequest> {
        self.shared.log.lock().expect("log lock").clone()
    }
}

async fn serve(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let text = |name| {
        request
            .headers()
            .get(name)
            .and_then(|value: &HeaderValue| value.to_str().ok())
            .map(str::to_owned)
    };
    let authorized = request.headers().contains_key(header::AUTHORIZATION);
    let if_none_match = text(header::IF_NONE_MATCH);
    let if_modified_since = text(header::IF_MODIFIED_SINCE);
    let everything = shared.everything.lock().expect("everything lock").clone();
    let reply = everything.or_else(|| {
        let replies = shared.replies.lock().expect("replies lock");
        query
            .as_ref()
            .and_then(|query| replies.get(&format!("{path}?{query}")))
            .or_else(|| replies.get(&path))
            .cloned()
    });
    let mut reply = reply.unwrap_or_else(|| Reply::text("not found\n").status(404));
    let filter = *shared.filter.lock().expect("filter lock");
    if let Some(filter) = filter {
        reply.body = filter(&reply.body);
    }
    if reply.status == 200 && *shared.validators.lock().expect("validators lock") {
        add_validators(&mut reply);
    }
    // Preconditions apply only where the answer would otherwise be a 2xx (RFC 9110, 13.2.1).
    let not_modified = (200..300).contains(&reply.status)
        && unchanged(
            &reply,
            if_none_match.as_deref(),
            if_modified_since.as_deref(),
        );
    let (status, body) = if not_modified {
        (304, Vec::new())
    } else {
        (reply.status, reply.body)
    };
    shared.log.lock().expect("log lock").push(FeedRequest {
        path,
        query,
        authorized,
        if_none_match,
        if_modified_since,
        status,
        body_bytes: body.len(),
    });
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).expect("valid status");
    let headers = response.headers_mut();
    if !not_modified {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&reply.content_type).expect("valid content type"),
        );
    }
    for (name, value) in reply.headers {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("valid header name");
        if not_modified && name != header::ETAG && name != header::LAST_MODIFIED {
            continue;
        }
        headers.append(
            name,
            HeaderValue::from_str(&value).expect("valid header value"),
        );
    }
    response
}

/// The value of the reply's header `name` (compared case-insensitively), if it has one.
fn header_of<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
    reply
        .headers
        .iter()
        .find(|(have, _)| have.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// Gives `reply` an `ETag` from its body and the fixed `Last-Modified`, where it has none.
fn add_validators(reply: &mut Reply) {
    if header_of(reply, "etag").is_none() {
        let digest = hex::encode(Sha256::digest(&reply.body));
        reply
            .headers
            .push(("etag".to_owned(), format!("\"{}\"", &digest[..32])));
    }
    if header_of(reply, "last-modified").is_none() {
        reply.headers.push((
            "last-modified".to_owned(),
            VALIDATORS_LAST_MODIFIED.to_owned(),
        ));
    }
}

/// Whether a request with these conditional headers gets a 304 for `reply` (RFC 9110,
/// 13.2.2, steps 3 and 4 for a GET): `If-None-Match` decides when it is present;
/// `If-Modified-Since` only without it.
fn unchanged(reply: &Reply, if_none_match: Option<&str>, if_modified_since: Option<&str>) -> bool {
    if let Some(condition) = if_none_match {
        return none_match_fails(condition, header_of(reply, "etag"));
    }
    match (if_modified_since, header_of(reply, "last-modified")) {
        (Some(since), Some(modified)) => match (http_date(since), http_date(modified)) {
            // A date that does not parse is ignored (13.1.3): the request is unconditional.
            (Some(since), Some(modified)) => modified <= since,
            _ => false,
        },
        _ => false,
    }
}

/// Whether `If-None-Match: condition` is *false* for a representation tagged `etag`, i.e.
/// the request gets a 304: `*` and any representation, or a listed tag equal to `etag`
/// under the weak comparison (13.1.2: opaque tags equal, `W/` on either side ignored).
fn none_match_fails(condition: &str, etag: Option<&str>) -> bool {
    if condition.trim() == "*" {
        return true;
    }
    let Some(current) = etag.and_then(opaque_tag) else {
        return false;
    };
    entity_tags(condition).any(|listed| opaque_tag(listed) == Some(current))
}

/// The entity tags of a comma-separated list (commas inside a quoted tag do not split it).
fn entity_tags(list: &str) -> impl Iterator<Item = &str> {
    let mut rest = list;
    std::iter::from_fn(move || {
        loop {
            rest = rest.trim_start_matches([' ', '\t', ',']);
            if rest.is_empty() {
                return None;
            }
            let start = rest;
            let body = rest.strip_prefix("W/").unwrap_or(rest);
            let consumed = match body.strip_prefix('"').and_then(|inner| inner.find('"')) {
                Some(close) => start.len() - body.len() + close + 2,
                None => rest.find(',').unwrap_or(rest.len()),
            };
            let (tag, after) = rest.split_at(consumed);
            rest = after;
            let tag = tag.trim();
            if !tag.is_empty() {
                return Some(tag);
            }
        }
    })
}

/// The quoted opaque part of an entity tag (`W/"x"` and `"x"` both give `"x"`); `None` for
/// text that is not an entity tag.
fn opaque_tag(tag: &str) -> Option<&str> {
    let tag = tag.trim();
    let opaque = tag.strip_prefix("W/").unwrap_or(tag);
    (opaque.len() >= 2
        && opaque.starts_with('"')
        && opaque.ends_with('"')
        && !opaque[1..opaque.len() - 1].contains('"'))
    .then_some(opaque)
}

/// Seconds since the epoch of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form
/// every current server sends; the obsolete forms and anything else are `None`.
fn http_date(text: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (_weekday, rest) = text.trim().split_once(", ")?;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = parts[..] else {
        return None;
    };
    let number = |text: &str, digits: usize| {
        (text.len() == digits && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse::<i64>().ok())
            .flatten()
    };
    let day = number(day, 2)?;
    let month = MONTHS.iter().position(|name| *name == month)? as i64 + 1;
    let year = number(year, 4)?;
    let clock: Vec<&str> = time.split(':').collect();
    let [hour, minute, second] = clock[..] else {
        return None;
    };
    let (hour, minute, second) = (number(hour, 2)?, number(minute, 2)?, number(second, 2)?);
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // Days from civil (proleptic Gregorian).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_uses_the_weak_comparison_over_lists() {
        let tag = Some("\"abc\"");
        assert!(none_match_fails("\"abc\"", tag));
        assert!(none_match_fails("W/\"abc\"", tag));
        assert!(none_match_fails("\"abc\"", Some("W/\"abc\"")));
        assert!(none_match_fails("\"x\", W/\"abc\"", tag));
        assert!(none_match_fails("\"x,y\" , \"abc\"", tag));
        assert!(none_match_fails("*", tag));
        assert!(none_match_fails("*", None));
        assert!(!none_match_fails("\"abcd\"", tag));
        assert!(!none_match_fails("\"x,abc\"", tag));
        assert!(
            !none_match_fails("abc", tag),
            "an unquoted tag is not an entity tag"
        );
        assert!(!none_match_fails("\"abc\"", None));
        assert!(!none_match_fails("", tag));
    }

    #[test]
    fn http_dates_compare_in_time() {
        let monday = http_date(VALIDATORS_LAST_MODIFIED).unwrap();
        assert_eq!(monday, 1_730_714_400);
        assert_eq!(
            http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(http_date("Sun Nov  6 08:49:37 1994"), None);
        assert_eq!(http_date("Mon, 04 Nov 2024 10:00:00 +0000"), None);
    }

    #[test]
    fn if_modified_since_counts_only_without_if_none_match() {
        let reply = Reply::text("x")
            .header("ETag", "\"1\"")
            .header("Last-Modified", VALIDATORS_LAST_MODIFIED);
        let later = "Tue, 05 Nov 2024 10:00:00 GMT";
        let earlier = "Sun, 03 Nov 2024 10:00:00 GMT";
        assert!(unchanged(&reply, None, Some(VALIDATORS_LAST_MODIFIED)));
        assert!(unchanged(&reply, None, Some(later)));
        assert!(!unchanged(&reply, None, Some(earlier)));
        assert!(!unchanged(&reply, None, Some("yesterday")));
        assert!(!unchanged(&reply, Some("\"2\""), Some(later)));
        assert!(unchanged(&reply, Some("\"1\""), Some(earlier)));
        assert!(!unchanged(&reply, None, None));
        assert!(!unchanged(&Reply::text("x"), None, Some(later)));
    }

    /// A raw HTTP/1.1 GET (no client library between the test and the server), the whole
    /// answer as text.
    async fn get(server: &FeedServer, path: &str, headers: &[(&str, &str)]) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let address = server
            .base()
            .trim_start_matches("http://")
            .trim_end_matches('/');
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let mut request =
            format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        answer
    }

    fn header_line<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
        answer
            .lines()
            .take_while(|line| !line.is_empty())
            .find_map(|line| {
                let (have, value) = line.split_once(':')?;
                have.eq_ignore_ascii_case(name).then(|| value.trim())
            })
    }

    #[tokio::test]
    async fn an_unchanged_document_is_a_304_without_body_and_a_changed_one_a_200() {
        let server = FeedServer::start().await;
        server.put(
            "/list",
            Reply::text("one\n").header("link", "<http://x/?page=2>; rel=\"next\""),
        );
        let plain = get(&server, "/list", &[]).await;
        assert!(plain.starts_with("HTTP/1.1 200"), "{plain}");
        assert_eq!(
            header_line(&plain, "etag"),
            None,
            "no validators unless asked"
        );

        server.set_validators(true);
        let first = get(&server, "/list", &[]).await;
        let etag = header_line(&first, "etag").unwrap().to_owned();
        assert!(etag.starts_with('"') && etag.len() == 34, "{etag}");
        assert_eq!(
            header_line(&first, "last-modified"),
            Some(VALIDATORS_LAST_MODIFIED)
        );

        let again = get(&server, "/list", &[("If-None-Match", &format!("W/{etag}"))]).await;
        assert!(again.starts_with("HTTP/1.1 304"), "{again}");
        assert_eq!(header_line(&again, "etag"), Some(etag.as_str()));
        assert_eq!(
            header_line(&again, "last-modified"),
            Some(VALIDATORS_LAST_MODIFIED)
        );
        assert_eq!(header_line(&again, "link"), None);
        assert!(again.ends_with("\r\n\r\n"), "a 304 has no body: {again:?}");
        let since = get(
            &server,
            "/list",
            &[("If-Modified-Since", VALIDATORS_LAST_MODIFIED)],
        )
        .await;
        assert!(since.starts_with("HTTP/1.1 304"), "{since}");

        server.put("/list", Reply::text("two\n"));
        let changed = get(&server, "/list", &[("If-None-Match", &etag)]).await;
        assert!(changed.starts_with("HTTP/1.1 200"), "{changed}");
        assert!(changed.ends_with("two\n"));
        assert_ne!(header_line(&changed, "etag"), Some(etag.as_str()));
        // A 404 stays a 404 whatever the request says.
        let missing = get(&server, "/gone", &[("If-None-Match", "*")]).await;
        assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");

        let log: Vec<(u16, usize, bool)> = server
            .requests()
            .iter()
            .map(|r| (r.status, r.body_bytes, r.conditional()))
            .collect();
        assert_eq!(
            log,
            [
                (200, 4, false),
                (200, 4, false),
                (304, 0, true),
                (304, 0, true),
                (200, 4, true),
                (404, 10, true)
            ]
        );
        assert!(server.requests()[2].not_modified());
    }
}
