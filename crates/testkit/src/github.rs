//! A strict stand-in for GitHub's releases REST API on 127.0.0.1, with the API and the upload
//! endpoint on two ports (as `api.github.com` and `uploads.github.com` are two hosts).
//!
//! It does what the documented API does, including the parts a careless client trips over:
//! drafts are listed but never returned by get-release-by-tag, and several drafts may share a
//! tag; lists are paginated (`per_page` up to 100, `page`, a `Link` header with `rel="next"`);
//! an upload needs `Content-Length`, and one of 2 GiB or more is refused from that header
//! before a byte of the body is read; a name already taken (by any asset, a `starter` too)
//! is answered 422 `already_exists`; names with characters outside letters, digits, `.`,
//! `-`, `_` are rewritten (each such character becomes `.`, a leading period gets
//! `default` in front, trailing periods go); an upload that ends before its length leaves an
//! asset in state `starter` that holds its name until deleted; uploaded assets carry a
//! `digest` of `sha256:<hex>`; publishing is `PATCH` with `draft: false`; with
//! [`GitHubStandIn::set_immutable`], a published release's assets can be neither added nor
//! deleted. Every request needs `Authorization: Bearer <token>` (or `token <token>`): 401
//! otherwise. With [`GitHubStandIn::enable_app`], a GitHub App's RS256 JWT (checked:
//! signature, `iss`, lifetime) buys an installation token that is accepted like the token.
//!
//! Faults on demand: 5xx answers for the next N requests or always, rate-limit answers
//! (403 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset`, or 429 with `retry-after`),
//! uploads cut after K bytes (answered 502 as GitHub's upstream failures are, or by dropping
//! the connection), uploads that stall after K bytes (so a test can kill the client), and
//! write requests carried out whose answer is lost (502).
//!
//! Bodies are hashed as they stream in, never buffered (only assets up to
//! [`KEPT_CONTENT`] bytes keep their content, for assertions). Tests read the final state
//! ([`GitHubStandIn::releases`]) and the request log ([`GitHubStandIn::requests`], which
//! records whether a request was authorised, never the token).

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use futures_util::StreamExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Assets up to this many bytes keep their content in [`StandInAsset::content`].
pub const KEPT_CONTENT: u64 = 64 * 1024;
/// An asset must be smaller than this (2 GiB).
pub const MAX_ASSET_SIZE: u64 = 2 * 1024 * 1024 * 1024;

/// The state of one asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssetState {
    /// Its upload never finished; it holds its name until deleted.
    Starter,
    Uploaded,
}

/// One asset as the stand-in holds it.
#[derive(Debug, Clone)]
pub struct StandInAsset {
    pub id: u64,
    /// The stored name (after GitHub's rewriting).
    pub name: String,
    pub label: Option<String>,
    pub state: AssetState,
    /// Bytes received so far (all of them for an uploaded asset).
    pub size: u64,
    /// The `Content-Length` the upload announced.
    pub declared: u64,
    /// Hex sha256 of the bytes received.
    pub sha256: String,
    /// The bytes, for an uploaded asset of at most [`KEPT_CONTENT`] bytes.
    pub content: Option<Vec<u8>>,
}

/// One release as the stand-in holds it.
#[derive(Debug, Clone)]
pub struct StandInRelease {
    pub id: u64,
    pub tag: String,
    pub name: String,
    pub body: String,
    pub draft: bool,
    pub published_at: Option<String>,
    pub assets: Vec<StandInAsset>,
}

impl StandInRelease {
    pub fn asset(&self, name: &str) -> Option<&StandInAsset> {
        self.assets.iter().find(|asset| asset.name == name)
    }
}

/// Which listener a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    Api,
    Uploads,
}

/// One request as the stand-in saw it.
#[derive(Debug, Clone)]
pub struct StandInRequest {
    pub port: Port,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// It carried the right token (its value is not kept).
    pub authorized: bool,
    pub status: u16,
}

impl StandInRequest {
    /// Anything but a GET.
    pub fn is_write(&self) -> bool {
        self.method != "GET"
    }
}

/// A rate-limit answer.
#[derive(Debug, Clone, Copy)]
pub enum RateLimit {
    /// 403, `x-ratelimit-remaining: 0`, `x-ratelimit-reset` this many seconds from now.
    Primary { reset_in_secs: u64 },
    /// 429 with `retry-after: secs`.
    Secondary { retry_after_secs: u64 },
}

/// How an upload is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Answered 502 after K bytes (GitHub's "upstream failure"), the asset left `starter`.
    BadGateway,
    /// The connection is dropped after K bytes, the asset left `starter`.
    Reset,
    /// Nothing more is read after K bytes, ever (the test kills the client).
    Stall,
}

#[derive(Debug, Default)]
struct Faults {
    /// Status and how many more requests get it (`None`: every one).
    server_error: Option<(u16, Option<u32>)>,
    rate_limit: Option<(RateLimit, u32)>,
    /// How, after how many bytes, and for how many more uploads.
    cut: Option<(Cut, u64, u32)>,
    /// Write requests still to be carried out but answered 502 (the answer lost on the way),
    /// of one method only when it is given.
    lose_answers: u32,
    lose_method: Option<String>,
}

#[derive(Default)]
struct Repo {
    next_id: u64,
    clock: u64,
    releases: Vec<StandInRelease>,
    immutable: bool,
}

/// A GitHub App the stand-in knows: installation tokens are minted for JWTs it signed.
struct App {
    app_id: u64,
    installation_id: u64,
    key: rsa::RsaPublicKey,
}

struct Shared {
    repo_path: String,
    /// Tokens accepted: the one given at start, then every installation token minted.
    tokens: Mutex<Vec<String>>,
    app: Mutex<Option<App>>,
    api_base: String,
    uploads_base: String,
    state: Mutex<Repo>,
    faults: Mutex<Faults>,
    log: Mutex<Vec<StandInRequest>>,
}

/// A running stand-in for one repository; it stops when the test's runtime ends.
#[derive(Clone)]
pub struct GitHubStandIn {
    shared: Arc<Shared>,
}

impl GitHubStandIn {
    /// Starts the API and upload listeners for repository `owner/name`, accepting `token`.
    pub async fn start(repo: &str, token: &str) -> GitHubStandIn {
        let api = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let uploads = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let base = |listener: &tokio::net::TcpListener| {
            format!("http://{}", listener.local_addr().expect("local address"))
        };
        let shared = Arc::new(Shared {
            repo_path: format!("/repos/{repo}/releases"),
            tokens: Mutex::new(vec![token.to_owned()]),
            app: Mutex::new(None),
            api_base: base(&api),
            uploads_base: base(&uploads),
            state: Mutex::new(Repo {
                next_id: 1,
                ..Repo::default()
            }),
            faults: Mutex::default(),
            log: Mutex::default(),
        });
        for (listener, port) in [(api, Port::Api), (uploads, Port::Uploads)] {
            let app = Router::new()
                .fallback(move |state, request| handle(state, port, request))
                .layer(DefaultBodyLimit::disable())
                .with_state(Arc::clone(&shared));
            tokio::spawn(async move {
                axum::serve(listener, app).await.expect("GitHub stand-in");
            });
        }
        GitHubStandIn { shared }
    }

    /// `http://127.0.0.1:PORT` of the REST API (no trailing slash).
    pub fn api_url(&self) -> &str {
        &self.shared.api_base
    }

    /// `http://127.0.0.1:PORT` of the upload endpoint.
    pub fn uploads_url(&self) -> &str {
        &self.shared.uploads_base
    }

    /// Every release, oldest first, with its assets.
    pub fn releases(&self) -> Vec<StandInRelease> {
        self.shared.state.lock().expect("state").releases.clone()
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<StandInRequest> {
        self.shared.log.lock().expect("log").clone()
    }

    /// Forgets the request log.
    pub fn clear_requests(&self) {
        self.shared.log.lock().expect("log").clear();
    }

    /// Adds a release directly (a published one gets the next publication time).
    pub fn seed_release(&self, tag: &str, body: &str, draft: bool) -> u64 {
        let mut repo = self.shared.state.lock().expect("state");
        let id = repo.take_id();
        let published_at = (!draft).then(|| repo.tick());
        repo.releases.push(StandInRelease {
            id,
            tag: tag.to_owned(),
            name: tag.to_owned(),
            body: body.to_owned(),
            draft,
            published_at,
            assets: Vec::new(),
        });
        id
    }

    /// Adds an asset to release `release` directly: `Uploaded` with `bytes`, or a `Starter`
    /// that received `bytes` of a longer upload.
    pub fn seed_asset(&self, release: u64, name: &str, bytes: &[u8], state: AssetState) {
        let mut repo = self.shared.state.lock().expect("state");
        let id = repo.take_id();
        let release = repo.release_mut(release).expect("seeded release exists");
        release.assets.push(StandInAsset {
            id,
            name: name.to_owned(),
            label: None,
            state,
            size: bytes.len() as u64,
            declared: bytes.len() as u64 + u64::from(state == AssetState::Starter),
            sha256: hex::encode(Sha256::digest(bytes)),
            content: (state == AssetState::Uploaded).then(|| bytes.to_vec()),
        });
    }

    /// Answers the next `count` requests (either port) with `status` (a 5xx).
    pub fn fail_next(&self, count: u32, status: u16) {
        self.faults().server_error = Some((status, Some(count)));
    }

    /// Answers every request with `status` until [`GitHubStandIn::heal`].
    pub fn fail_always(&self, status: u16) {
        self.faults().server_error = Some((status, None));
    }

    /// Answers the next `count` requests with a rate-limit answer.
    pub fn rate_limit_next(&self, count: u32, limit: RateLimit) {
        self.faults().rate_limit = Some((limit, count));
    }

    /// Cuts the next `count` uploads after `after_bytes` bytes of body.
    pub fn cut_uploads(&self, cut: Cut, after_bytes: u64, count: u32) {
        self.faults().cut = Some((cut, after_bytes, count));
    }

    /// Carries out the next `count` write requests (anything but GET) but answers them 502,
    /// as when the answer is lost after GitHub acted on the request.
    pub fn lose_answers(&self, count: u32) {
        let mut faults = self.faults();
        faults.lose_answers = count;
        faults.lose_method = None;
    }

    /// Like [`GitHubStandIn::lose_answers`], for requests of `method` (`PATCH`, ...) only.
    pub fn lose_answers_to(&self, method: &str, count: u32) {
        let mut faults = self.faults();
        faults.lose_answers = count;
        faults.lose_method = Some(method.to_owned());
    }

    /// Accepts GitHub App `app_id`, installed as `installation_id`, whose JWTs verify with
    /// `public_key_pem` (SPKI `PUBLIC KEY` PEM): `POST /app/installations/{id}/access_tokens`
    /// then mints installation tokens valid for every request.
    pub fn enable_app(&self, app_id: u64, installation_id: u64, public_key_pem: &str) {
        use rsa::pkcs8::DecodePublicKey as _;
        let key = rsa::RsaPublicKey::from_public_key_pem(public_key_pem).expect("a public key");
        *self.shared.app.lock().expect("app") = Some(App {
            app_id,
            installation_id,
            key,
        });
    }

    /// Installation tokens minted so far.
    pub fn minted_tokens(&self) -> usize {
        self.shared.tokens.lock().expect("tokens").len() - 1
    }

    /// Clears every fault.
    pub fn heal(&self) {
        *self.faults() = Faults::default();
    }

    /// With `true`, a published release's assets can be neither added nor deleted.
    pub fn set_immutable(&self, on: bool) {
        self.shared.state.lock().expect("state").immutable = on;
    }

    fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.shared.faults.lock().expect("faults")
    }
}

impl Repo {
    fn take_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// The next publication time: one second after the previous, so order is unambiguous.
    fn tick(&mut self) -> String {
        self.clock += 1;
        let seconds = self.clock;
        format!(
            "2026-01-01T{:02}:{:02}:{:02}Z",
            seconds / 3600 % 24,
            seconds / 60 % 60,
            seconds % 60
        )
    }

    fn release_mut(&mut self, id: u64) -> Option<&mut StandInRelease> {
        self.releases.iter_mut().find(|release| release.id == id)
    }
}

/// GitHub's rewriting of an asset name. The upload endpoint's documentation says only that
/// GitHub "renames asset filenames that have special characters, non-alphanumeric
/// characters, and leading or trailing periods", and that the list endpoint shows the new
/// name. The mapping modelled here is the one users report: spaces (github-release/
/// github-release#93, tox-dev/github-workflows 6.0.3), `~` and `:` (softprops/
/// action-gh-release#159) and parentheses (same thread) become `.`; trailing periods go and a
/// leading one gets `default` in front. repack never relies on the exact mapping: the
/// publisher refuses every name outside `[A-Za-z0-9._-]` with no leading or trailing period
/// before uploading, so the stand-in only has to rename those names somehow.
pub fn rewrite_name(name: &str) -> String {
    let mapped: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '.'
            }
        })
        .collect();
    let trimmed = mapped.trim_end_matches('.');
    if trimmed.starts_with('.') {
        format!("default{trimmed}")
    } else {
        trimmed.to_owned()
    }
}

fn reply(status: u16, body: Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = StatusCode::from_u16(status).expect("valid status");
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn message(status: u16, text: &str) -> Response {
    reply(status, json!({ "message": text }))
}

fn validation(resource: &str, code: &str, field: &str) -> Response {
    reply(
        422,
        json!({
            "message": "Validation Failed",
            "errors": [{ "resource": resource, "code": code, "field": field }],
        }),
    )
}

async fn handle(State(shared): State<Arc<Shared>>, port: Port, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let credentials = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let presented = credentials.as_deref().and_then(|value| {
        value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("token "))
    });
    let minting = port == Port::Api
        && method == Method::POST
        && path.starts_with("/app/installations/")
        && path.ends_with("/access_tokens");
    let authorized = match presented {
        Some(presented) if minting => app_jwt_valid(&shared, presented),
        Some(presented) => shared
            .tokens
            .lock()
            .expect("tokens")
            .iter()
            .any(|token| token == presented),
        None => false,
    };
    let response = if credentials.is_none() {
        message(401, "Requires authentication")
    } else if !authorized {
        message(401, "Bad credentials")
    } else if minting {
        mint_installation_token(&shared, &path)
    } else if let Some(fault) = injected_fault(&shared) {
        fault
    } else {
        let response = route(&shared, port, &method, &path, query.as_deref(), request).await;
        let mut faults = shared.faults.lock().expect("faults");
        let lost = method != Method::GET
            && faults.lose_answers > 0
            && faults
                .lose_method
                .as_deref()
                .is_none_or(|only| only == method.as_str());
        if lost {
            faults.lose_answers -= 1;
            message(502, "Bad Gateway")
        } else {
            response
        }
    };
    shared.log.lock().expect("log").push(StandInRequest {
        port,
        method: method.to_string(),
        path,
        query,
        authorized,
        status: response.status().as_u16(),
    });
    response
}

/// An RS256 JWT of the enabled app: signature, `iss`, and a lifetime of at most 10 minutes
/// that has not ended.
fn app_jwt_valid(shared: &Shared, jwt: &str) -> bool {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use rsa::signature::Verifier as _;
    let app = shared.app.lock().expect("app");
    let Some(app) = app.as_ref() else {
        return false;
    };
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return false;
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).ok();
    let (Some(header_json), Some(claims_json), Some(signature)) =
        (decode(header), decode(claims), decode(signature))
    else {
        return false;
    };
    let header_json: Value = serde_json::from_slice(&header_json).unwrap_or_default();
    let claims_json: Value = serde_json::from_slice(&claims_json).unwrap_or_default();
    if header_json["alg"] != "RS256" {
        return false;
    }
    let iss_matches = claims_json["iss"].as_str() == Some(&app.app_id.to_string())
        || claims_json["iss"].as_u64() == Some(app.app_id);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let (Some(iat), Some(exp)) = (claims_json["iat"].as_u64(), claims_json["exp"].as_u64()) else {
        return false;
    };
    let verifier = rsa::pkcs1v15::VerifyingKey::<sha2_010::Sha256>::new(app.key.clone());
    let Ok(signature) = rsa::pkcs1v15::Signature::try_from(signature.as_slice()) else {
        return false;
    };
    iss_matches
        && exp > now
        && exp.saturating_sub(iat) <= 600
        && iat <= now + 60
        && verifier
            .verify(format!("{header}.{claims}").as_bytes(), &signature)
            .is_ok()
}

fn mint_installation_token(shared: &Shared, path: &str) -> Response {
    let installation = path
        .trim_start_matches("/app/installations/")
        .trim_end_matches("/access_tokens")
        .parse::<u64>()
        .ok();
    let known = shared
        .app
        .lock()
        .expect("app")
        .as_ref()
        .map(|app| app.installation_id);
    if installation.is_none() || installation != known {
        return message(404, "Not Found");
    }
    let mut tokens = shared.tokens.lock().expect("tokens");
    let token = format!("ghs_standin_{}", tokens.len());
    tokens.push(token.clone());
    reply(
        201,
        json!({
            "token": token,
            "expires_at": "2099-01-01T00:00:00Z",
            "permissions": { "contents": "write" },
        }),
    )
}

fn injected_fault(shared: &Shared) -> Option<Response> {
    let mut faults = shared.faults.lock().expect("faults");
    if let Some((limit, left)) = &mut faults.rate_limit {
        let limit = *limit;
        *left -= 1;
        if *left == 0 {
            faults.rate_limit = None;
        }
        let mut response;
        match limit {
            RateLimit::Primary { reset_in_secs } => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .expect("after 1970")
                    .as_secs();
                response = message(403, "API rate limit exceeded");
                let headers = response.headers_mut();
                headers.insert("x-ratelimit-limit", HeaderValue::from_static("5000"));
                headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
                headers.insert("x-ratelimit-reset", HeaderValue::from(now + reset_in_secs));
            }
            RateLimit::Secondary { retry_after_secs } => {
                response = message(429, "You have exceeded a secondary rate limit");
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
        }
        return Some(response);
    }
    if let Some((status, left)) = &mut faults.server_error {
        let status = *status;
        if let Some(left) = left {
            *left -= 1;
            if *left == 0 {
                faults.server_error = None;
            }
        }
        return Some(message(status, "Server Error"));
    }
    None
}

async fn route(
    shared: &Shared,
    port: Port,
    method: &Method,
    path: &str,
    query: Option<&str>,
    request: Request,
) -> Response {
    let Some(rest) = path.strip_prefix(&shared.repo_path) else {
        return message(404, "Not Found");
    };
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let params: HashMap<String, String> =
        url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    if port == Port::Uploads {
        return match (method, segments.as_slice()) {
            (&Method::POST, [id, "assets"]) => match id.parse() {
                Ok(id) => upload(shared, id, &params, request).await,
                Err(_) => message(404, "Not Found"),
            },
            _ => message(404, "Not Found"),
        };
    }
    let body = match axum::body::to_bytes(request.into_body(), 1 << 20).await {
        Ok(body) => body,
        Err(_) => return message(400, "Problems parsing JSON"),
    };
    let mut repo = shared.state.lock().expect("state");
    match (method, segments.as_slice()) {
        (&Method::GET, []) => {
            let mut releases: Vec<&StandInRelease> = repo.releases.iter().collect();
            releases.sort_by_key(|release| std::cmp::Reverse(release.id));
            let values = releases.iter().map(|r| release_json(shared, r)).collect();
            paginated(shared, path, &params, values)
        }
        (&Method::POST, []) => create_release(shared, &mut repo, &body),
        (&Method::GET, ["tags", tag]) => match repo
            .releases
            .iter()
            .find(|release| release.tag == *tag && !release.draft)
        {
            Some(release) => reply(200, release_json(shared, release)),
            None => message(404, "Not Found"),
        },
        (&Method::GET, ["assets", id]) => {
            let found = repo
                .releases
                .iter()
                .flat_map(|release| &release.assets)
                .find(|asset| Some(asset.id) == id.parse().ok());
            match found {
                Some(asset) => reply(200, asset_json(shared, asset)),
                None => message(404, "Not Found"),
            }
        }
        (&Method::DELETE, ["assets", id]) => {
            let immutable = repo.immutable;
            let id: Option<u64> = id.parse().ok();
            for release in &mut repo.releases {
                if let Some(index) = release.assets.iter().position(|a| Some(a.id) == id) {
                    if immutable && !release.draft {
                        return message(422, "Cannot delete assets of an immutable release");
                    }
                    release.assets.remove(index);
                    return Response::builder()
                        .status(204)
                        .body(Body::empty())
                        .expect("response");
                }
            }
            message(404, "Not Found")
        }
        (_, [id, rest @ ..]) => {
            let Some(id) = id.parse::<u64>().ok() else {
                return message(404, "Not Found");
            };
            if repo.release_mut(id).is_none() {
                return message(404, "Not Found");
            }
            match (method, rest) {
                (&Method::GET, []) => {
                    let release = repo.release_mut(id).expect("checked");
                    reply(200, release_json(shared, release))
                }
                (&Method::PATCH, []) => update_release(shared, &mut repo, id, &body),
                (&Method::DELETE, []) => {
                    repo.releases.retain(|release| release.id != id);
                    Response::builder()
                        .status(204)
                        .body(Body::empty())
                        .expect("response")
                }
                (&Method::GET, ["assets"]) => {
                    let release = repo.release_mut(id).expect("checked");
                    let values = release
                        .assets
                        .iter()
                        .map(|a| asset_json(shared, a))
                        .collect();
                    paginated(shared, path, &params, values)
                }
                _ => message(404, "Not Found"),
            }
        }
        _ => message(404, "Not Found"),
    }
}

fn create_release(shared: &Shared, repo: &mut Repo, body: &[u8]) -> Response {
    let Ok(document) = serde_json::from_slice::<Value>(body) else {
        return message(400, "Problems parsing JSON");
    };
    let Some(tag) = document["tag_name"].as_str().filter(|tag| !tag.is_empty()) else {
        return validation("Release", "missing_field", "tag_name");
    };
    let draft = document["draft"].as_bool().unwrap_or(false);
    if !draft && repo.releases.iter().any(|r| r.tag == tag && !r.draft) {
        return validation("Release", "already_exists", "tag_name");
    }
    let id = repo.take_id();
    let published_at = (!draft).then(|| repo.tick());
    let release = StandInRelease {
        id,
        tag: tag.to_owned(),
        name: document["name"].as_str().unwrap_or(tag).to_owned(),
        body: document["body"].as_str().unwrap_or("").to_owned(),
        draft,
        published_at,
        assets: Vec::new(),
    };
    let json = release_json(shared, &release);
    repo.releases.push(release);
    reply(201, json)
}

fn update_release(shared: &Shared, repo: &mut Repo, id: u64, body: &[u8]) -> Response {
    let Ok(document) = serde_json::from_slice::<Value>(body) else {
        return message(400, "Problems parsing JSON");
    };
    let immutable = repo.immutable;
    let current = repo.release_mut(id).expect("checked").clone();
    if immutable && !current.draft {
        return message(422, "Cannot modify an immutable release");
    }
    let publish = document["draft"].as_bool() == Some(false) && current.draft;
    if publish
        && repo
            .releases
            .iter()
            .any(|r| r.tag == current.tag && !r.draft && r.id != id)
    {
        return validation("Release", "already_exists", "tag_name");
    }
    let published_at = publish.then(|| repo.tick());
    let release = repo.release_mut(id).expect("checked");
    if let Some(draft) = document["draft"].as_bool() {
        release.draft = draft;
    }
    if let Some(body) = document["body"].as_str() {
        release.body = body.to_owned();
    }
    if let Some(name) = document["name"].as_str() {
        release.name = name.to_owned();
    }
    if published_at.is_some() {
        release.published_at = published_at;
    }
    reply(200, release_json(shared, release))
}

async fn upload(
    shared: &Shared,
    release_id: u64,
    params: &HashMap<String, String>,
    request: Request,
) -> Response {
    let Some(requested) = params.get("name").filter(|name| !name.is_empty()) else {
        return validation("ReleaseAsset", "missing_field", "name");
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let Some(declared) = declared else {
        return message(411, "Length Required");
    };
    if declared >= MAX_ASSET_SIZE {
        return reply(
            422,
            json!({
                "message": "Validation Failed",
                "errors": [{
                    "resource": "ReleaseAsset", "code": "custom", "field": "size",
                    "message": format!("size must be less than {MAX_ASSET_SIZE}"),
                }],
            }),
        );
    }
    let name = rewrite_name(requested);
    let asset_id = {
        let mut repo = shared.state.lock().expect("state");
        let immutable = repo.immutable;
        let id = repo.next_id;
        let Some(release) = repo.release_mut(release_id) else {
            return message(404, "Not Found");
        };
        if immutable && !release.draft {
            return message(422, "Cannot upload assets to an immutable release");
        }
        if release.assets.iter().any(|asset| asset.name == name) {
            return validation("ReleaseAsset", "already_exists", "name");
        }
        release.assets.push(StandInAsset {
            id,
            name: name.clone(),
            label: params.get("label").cloned(),
            state: AssetState::Starter,
            size: 0,
            declared,
            sha256: hex::encode(Sha256::digest(b"")),
            content: None,
        });
        repo.take_id()
    };
    let cut = {
        let mut faults = shared.faults.lock().expect("faults");
        match &mut faults.cut {
            Some((how, after, left)) => {
                let cut = (*how, *after);
                *left -= 1;
                if *left == 0 {
                    faults.cut = None;
                }
                Some(cut)
            }
            None => None,
        }
    };
    let update = |size: u64, hasher: &Sha256, content: Option<Vec<u8>>, done: bool| {
        let mut repo = shared.state.lock().expect("state");
        let asset = repo
            .release_mut(release_id)
            .and_then(|release| release.assets.iter_mut().find(|a| a.id == asset_id));
        if let Some(asset) = asset {
            asset.size = size;
            asset.sha256 = hex::encode(hasher.clone().finalize());
            if done {
                asset.state = AssetState::Uploaded;
                asset.content = content;
            }
            Some(asset.clone())
        } else {
            None
        }
    };
    let mut stream = request.into_body().into_data_stream();
    let mut hasher = Sha256::new();
    let mut received = 0u64;
    let mut content = (declared <= KEPT_CONTENT).then(Vec::new);
    while let Some(chunk) = stream.next().await {
        let Ok(mut chunk) = chunk else {
            // The client went away: the asset stays a starter.
            update(received, &hasher, None, false);
            return message(400, "Bad Request");
        };
        if let Some((how, after)) = cut
            && received + chunk.len() as u64 >= after
        {
            chunk.truncate((after - received) as usize);
            hasher.update(&chunk);
            received = after;
            update(received, &hasher, None, false);
            match how {
                Cut::BadGateway => return message(502, "Bad Gateway"),
                Cut::Reset => {
                    let broken = futures_util::stream::once(async {
                        Err::<bytes::Bytes, _>(std::io::Error::other("connection reset"))
                    });
                    return Response::builder()
                        .status(201)
                        .body(Body::from_stream(broken))
                        .expect("response");
                }
                Cut::Stall => std::future::pending::<()>().await,
            }
        }
        if received + chunk.len() as u64 > declared {
            update(received, &hasher, None, false);
            return message(400, "Body longer than Content-Length");
        }
        hasher.update(&chunk);
        received += chunk.len() as u64;
        if let Some(content) = &mut content {
            content.extend_from_slice(&chunk);
        }
        update(received, &hasher, None, false);
    }
    if received != declared {
        update(received, &hasher, None, false);
        return message(400, "Body shorter than Content-Length");
    }
    match update(received, &hasher, content, true) {
        Some(asset) => reply(201, asset_json(shared, &asset)),
        None => message(404, "Not Found"),
    }
}

fn paginated(
    shared: &Shared,
    path: &str,
    params: &HashMap<String, String>,
    values: Vec<Value>,
) -> Response {
    let per_page = params
        .get("per_page")
        .and_then(|text| text.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = params
        .get("page")
        .and_then(|text| text.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let pages = values.len().div_ceil(per_page).max(1);
    let slice: Vec<Value> = values
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut response = reply(200, Value::Array(slice));
    let link = |page: usize, rel: &str| {
        format!(
            "<{}{path}?per_page={per_page}&page={page}>; rel=\"{rel}\"",
            shared.api_base
        )
    };
    let mut links = Vec::new();
    if page < pages {
        links.push(link(page + 1, "next"));
        links.push(link(pages, "last"));
    }
    if page > 1 {
        links.push(link(1, "first"));
        links.push(link(page - 1, "prev"));
    }
    if !links.is_empty() {
        response.headers_mut().insert(
            header::LINK,
            HeaderValue::from_str(&links.join(", ")).expect("valid link"),
        );
    }
    response
}

fn release_json(shared: &Shared, release: &StandInRelease) -> Value {
    let url = format!("{}{}/{}", shared.api_base, shared.repo_path, release.id);
    json!({
        "id": release.id,
        "url": url,
        "upload_url": format!(
            "{}{}/{}/assets{{?name,label}}", shared.uploads_base, shared.repo_path, release.id
        ),
        "tag_name": release.tag,
        "name": release.name,
        "body": release.body,
        "draft": release.draft,
        "prerelease": false,
        "created_at": "2026-01-01T00:00:00Z",
        "published_at": release.published_at,
        "assets": release.assets.iter().map(|a| asset_json(shared, a)).collect::<Vec<_>>(),
    })
}

fn asset_json(shared: &Shared, asset: &StandInAsset) -> Value {
    let uploaded = asset.state == AssetState::Uploaded;
    json!({
        "id": asset.id,
        "url": format!("{}{}/assets/{}", shared.api_base, shared.repo_path, asset.id),
        "name": asset.name,
        "label": asset.label,
        "state": if uploaded { "uploaded" } else { "starter" },
        "content_type": "application/octet-stream",
        "size": asset.size,
        "digest": uploaded.then(|| format!("sha256:{}", asset.sha256)),
        "download_count": 0,
    })
}

#[cfg(test)]
mod tests {
    use super::rewrite_name;

    #[test]
    fn names_are_rewritten_like_github_does() {
        assert_eq!(rewrite_name("file system.img"), "file.system.img");
        assert_eq!(rewrite_name("a~b(1)"), "a.b.1");
        assert_eq!(rewrite_name(".env"), "default.env");
        assert_eq!(rewrite_name("vmlinuz"), "vmlinuz");
    }
}
