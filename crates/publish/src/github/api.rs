//! The GitHub REST calls the publisher makes, and what it does when they fail.
//!
//! Every request carries the token (a header marked sensitive, never logged) and goes through
//! [`Api::send`]: a 5xx answer or a broken connection is retried with exponential backoff
//! (with jitter) as long as the session's budget allows; a rate-limit answer (403 or 429 with
//! `x-ratelimit-remaining: 0`, `x-ratelimit-reset` or `retry-after`) waits until the limit
//! resets, up to [`RetryPolicy::max_rate_limit_wait`]; any other answer goes back to the
//! caller, which turns a 4xx into an error carrying the API's `message`. Uploads stream the
//! file from disk with its `Content-Length`, so no asset is ever held in memory.

use super::auth::{Auth, Credentials};
use super::{RetryPolicy, Token};
use crate::PublishError;
use bytes::{Bytes, BytesMut};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, USER_AGENT};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Deserialize;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncReadExt;

/// Bytes read from disk per chunk of an upload body.
const UPLOAD_CHUNK: usize = 256 * 1024;
/// Releases or assets asked for per page (the API's maximum).
const PER_PAGE: u32 = 100;
/// Largest API answer read: a page of 100 releases with long bodies is a few hundred KiB.
const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;
/// The wait GitHub asks for after a secondary rate limit without a header saying how long.
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// A release as the API lists it (the fields the publisher reads).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Release {
    pub id: u64,
    pub tag_name: String,
    pub draft: bool,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub published_at: Option<String>,
}

/// A release asset as the API lists it.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Asset {
    pub id: u64,
    pub name: String,
    /// `uploaded`, or `starter` for one whose upload never finished.
    pub state: String,
    pub size: u64,
    /// `sha256:<hex>` for an uploaded asset.
    #[serde(default)]
    pub digest: Option<String>,
}

/// One answer, body read in full (API answers are small JSON documents).
pub(crate) struct Reply {
    pub status: StatusCode,
    headers: HeaderMap,
    pub body: Bytes,
}

/// The deadline of one publishing run: retries stop when it is reached.
pub(crate) struct Session {
    deadline: Instant,
}

/// Whether [`Api::send_with`] retries 5xx answers and broken connections itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    WithinBudget,
    /// The request is not idempotent: the caller checks what happened before resending.
    Never,
}

/// What an upload ended in, when the API answered.
pub(crate) enum Upload {
    Done(Asset),
    /// 422 `already_exists`: an asset (possibly a `starter`) holds the name.
    NameTaken,
}

#[derive(Debug)]
pub(crate) struct Api {
    client: reqwest::Client,
    api_url: String,
    uploads_url: String,
    repo: String,
    auth: Auth,
    retry: RetryPolicy,
}

impl Api {
    pub fn new(
        api_url: &str,
        uploads_url: &str,
        repo: &str,
        credentials: Credentials,
        retry: RetryPolicy,
    ) -> Result<Api, PublishError> {
        for (what, url) in [("api_url", api_url), ("uploads_url", uploads_url)] {
            let parsed = reqwest::Url::parse(url)
                .map_err(|error| PublishError::GitHubConfig(format!("{what} `{url}`: {error}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(PublishError::GitHubConfig(format!(
                    "{what} `{url}` is not an http(s) URL"
                )));
            }
        }
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(30))
            // No read timeout: a large upload reads nothing for minutes. Keepalive probes
            // notice a peer that is gone instead.
            .tcp_keepalive(Duration::from_secs(60))
            .build()
            .map_err(|error| PublishError::GitHubConfig(format!("HTTP client: {error}")))?;
        Ok(Api {
            client,
            api_url: api_url.trim_end_matches('/').to_owned(),
            uploads_url: uploads_url.trim_end_matches('/').to_owned(),
            repo: repo.to_owned(),
            auth: Auth::new(credentials),
            retry,
        })
    }

    /// No credentials at all (an empty token).
    pub fn has_no_credentials(&self) -> bool {
        self.auth.is_empty()
    }

    /// Trades a GitHub App JWT for an installation token (one attempt; a failure is
    /// reported as it is).
    async fn mint(
        &self,
        installation: u64,
        jwt: String,
    ) -> Result<(Token, Option<Duration>), PublishError> {
        let endpoint = format!("POST /app/installations/{installation}/access_tokens");
        let url = format!(
            "{}/app/installations/{installation}/access_tokens",
            self.api_url
        );
        let mut bearer = reqwest::header::HeaderValue::from_str(&format!("Bearer {jwt}"))
            .map_err(|_| PublishError::GitHubConfig("the app JWT is not a header".to_owned()))?;
        bearer.set_sensitive(true);
        let unavailable = |last: String| PublishError::GitHubUnavailable {
            endpoint: endpoint.clone(),
            attempts: 1,
            budget_secs: self.retry.budget.as_secs(),
            last,
            draft_left: false,
        };
        let response = self
            .client
            .post(&url)
            .header(AUTHORIZATION, bearer)
            .header(ACCEPT, "application/vnd.github+json")
            .header(USER_AGENT, concat!("repack/", env!("CARGO_PKG_VERSION")))
            .send()
            .await
            .map_err(|error| unavailable(format!("connection failed: {}", error_chain(&error))))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = bounded_body(response).await.map_err(unavailable)?;
        let reply = expect_success(
            Reply {
                status,
                headers,
                body,
            },
            &endpoint,
        )?;
        #[derive(Deserialize)]
        struct Minted {
            token: String,
        }
        let minted: Minted = decode(reply, &endpoint)?;
        Ok((Token::new(minted.token), None))
    }

    pub fn session(&self) -> Session {
        Session {
            deadline: Instant::now() + self.retry.budget,
        }
    }

    fn repo_url(&self, rest: &str) -> String {
        format!("{}/repos/{}/{rest}", self.api_url, self.repo)
    }

    /// Every release of the repository, drafts included (the get-by-tag endpoint never
    /// returns drafts, so this is how a run finds its own).
    pub async fn list_releases(&self, session: &Session) -> Result<Vec<Release>, PublishError> {
        let url = self.repo_url(&format!("releases?per_page={PER_PAGE}"));
        self.list_all(session, url, &format!("GET /repos/{}/releases", self.repo))
            .await
    }

    pub async fn list_assets(
        &self,
        session: &Session,
        release: u64,
    ) -> Result<Vec<Asset>, PublishError> {
        let url = self.repo_url(&format!("releases/{release}/assets?per_page={PER_PAGE}"));
        let endpoint = format!("GET /repos/{}/releases/{release}/assets", self.repo);
        self.list_all(session, url, &endpoint).await
    }

    /// Creates a draft release, sending the request *once*: a lost answer may still have
    /// created it, so the caller looks for it before trying again (see
    /// [`Api::pause`]).
    pub async fn create_draft_once(
        &self,
        session: &Session,
        tag: &str,
        title: &str,
        body: &str,
    ) -> Result<Release, PublishError> {
        let endpoint = format!("POST /repos/{}/releases", self.repo);
        let document = serde_json::json!({
            "tag_name": tag,
            "name": title,
            "body": body,
            "draft": true,
            "prerelease": false,
        });
        let url = self.repo_url("releases");
        let reply = self
            .send_with(session, &endpoint, Retry::Never, &|| {
                Ok(self.json_request(Method::POST, &url, &document))
            })
            .await?;
        decode(expect_success(reply, &endpoint)?, &endpoint)
    }

    /// Waits before attempt `attempt + 1` of something the caller retries itself, or fails
    /// with `last` when that would overrun the session's budget.
    pub async fn pause(
        &self,
        session: &Session,
        attempt: u32,
        endpoint: &str,
        last: String,
    ) -> Result<(), PublishError> {
        let backoff = self
            .retry
            .first_backoff
            .saturating_mul(1 << attempt.min(16))
            .min(self.retry.max_backoff);
        let delay = jittered(backoff);
        if Instant::now() + delay > session.deadline {
            return Err(PublishError::GitHubUnavailable {
                endpoint: endpoint.to_owned(),
                attempts: attempt,
                budget_secs: self.retry.budget.as_secs(),
                last,
                draft_left: false,
            });
        }
        tokio::time::sleep(delay).await;
        Ok(())
    }

    /// Makes a draft public (`draft: false`).
    pub async fn publish_release(
        &self,
        session: &Session,
        release: u64,
    ) -> Result<Release, PublishError> {
        let endpoint = format!("PATCH /repos/{}/releases/{release}", self.repo);
        let url = self.repo_url(&format!("releases/{release}"));
        let document = serde_json::json!({ "draft": false });
        let reply = self
            .send(session, &endpoint, &|| {
                Ok(self.json_request(Method::PATCH, &url, &document))
            })
            .await?;
        decode(expect_success(reply, &endpoint)?, &endpoint)
    }

    pub async fn delete_release(
        &self,
        session: &Session,
        release: u64,
    ) -> Result<(), PublishError> {
        let endpoint = format!("DELETE /repos/{}/releases/{release}", self.repo);
        let url = self.repo_url(&format!("releases/{release}"));
        self.delete(session, &endpoint, &url).await
    }

    pub async fn delete_asset(&self, session: &Session, asset: u64) -> Result<(), PublishError> {
        let endpoint = format!("DELETE /repos/{}/releases/assets/{asset}", self.repo);
        let url = self.repo_url(&format!("releases/assets/{asset}"));
        self.delete(session, &endpoint, &url).await
    }

    async fn delete(
        &self,
        session: &Session,
        endpoint: &str,
        url: &str,
    ) -> Result<(), PublishError> {
        let reply = self
            .send(session, endpoint, &|| Ok(self.client.delete(url)))
            .await?;
        // Already gone (a retried delete whose first answer was lost) is what was wanted.
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(());
        }
        expect_success(reply, endpoint).map(drop)
    }

    /// Uploads `path` (`size` bytes) as asset `name` of `release`, streamed from disk.
    pub async fn upload(
        &self,
        session: &Session,
        release: u64,
        name: &str,
        path: &Path,
        size: u64,
    ) -> Result<Upload, PublishError> {
        let endpoint = format!(
            "POST /repos/{}/releases/{release}/assets?name={name}",
            self.repo
        );
        let mut url = reqwest::Url::parse(&format!(
            "{}/repos/{}/releases/{release}/assets",
            self.uploads_url, self.repo
        ))
        .map_err(|error| PublishError::GitHubConfig(format!("uploads_url: {error}")))?;
        url.query_pairs_mut().append_pair("name", name);
        let reply = self
            .send(session, &endpoint, &|| {
                let file = std::fs::File::open(path).map_err(|source| PublishError::Io {
                    action: "cannot open",
                    path: path.to_owned(),
                    source,
                })?;
                Ok(self
                    .client
                    .post(url.clone())
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .header(CONTENT_LENGTH, size)
                    .body(file_body(tokio::fs::File::from_std(file), size)))
            })
            .await?;
        if reply.status == StatusCode::UNPROCESSABLE_ENTITY
            && error_codes(&reply)
                .iter()
                .any(|code| code == "already_exists")
        {
            return Ok(Upload::NameTaken);
        }
        decode(expect_success(reply, &endpoint)?, &endpoint).map(Upload::Done)
    }

    /// Follows `Link: <…>; rel="next"` from `url` to the last page.
    async fn list_all<T: serde::de::DeserializeOwned>(
        &self,
        session: &Session,
        url: String,
        endpoint: &str,
    ) -> Result<Vec<T>, PublishError> {
        let mut all = Vec::new();
        let mut next = Some(url);
        while let Some(url) = next.take() {
            let reply = self
                .send(session, endpoint, &|| Ok(self.client.get(&url)))
                .await?;
            let reply = expect_success(reply, endpoint)?;
            next = next_link(&reply.headers);
            let page: Vec<T> = decode(reply, endpoint)?;
            all.extend(page);
        }
        Ok(all)
    }

    fn json_request(
        &self,
        method: Method,
        url: &str,
        document: &serde_json::Value,
    ) -> RequestBuilder {
        self.client
            .request(method, url)
            .header(CONTENT_TYPE, "application/json")
            .body(document.to_string())
    }

    /// Sends the request `make` builds (again for each attempt), retrying 5xx answers and
    /// broken connections within the session's budget and waiting out rate limits. Any other
    /// answer is returned as it is.
    async fn send(
        &self,
        session: &Session,
        endpoint: &str,
        make: &(dyn Fn() -> Result<RequestBuilder, PublishError> + Sync),
    ) -> Result<Reply, PublishError> {
        self.send_with(session, endpoint, Retry::WithinBudget, make)
            .await
    }

    async fn send_with(
        &self,
        session: &Session,
        endpoint: &str,
        retry: Retry,
        make: &(dyn Fn() -> Result<RequestBuilder, PublishError> + Sync),
    ) -> Result<Reply, PublishError> {
        let mut attempts = 0u32;
        let mut backoff = self.retry.first_backoff;
        loop {
            attempts += 1;
            let token = self
                .auth
                .token(|installation, jwt| self.mint(installation, jwt))
                .await?;
            let request = make()?
                .header(AUTHORIZATION, token.header_value())
                .header(ACCEPT, "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28")
                .header(USER_AGENT, concat!("repack/", env!("CARGO_PKG_VERSION")));
            let failure = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    match bounded_body(response).await {
                        Ok(body) => {
                            let reply = Reply {
                                status,
                                headers,
                                body,
                            };
                            if let Some(wait) = rate_limit_wait(&reply) {
                                self.wait_for_rate_limit(endpoint, wait).await?;
                                continue;
                            }
                            if !status.is_server_error() {
                                tracing::debug!(%endpoint, status = status.as_u16(), "GitHub answered");
                                return Ok(reply);
                            }
                            format!("{status}: {}", api_message(&reply))
                        }
                        Err(problem) => problem,
                    }
                }
                Err(error) if error.is_builder() => {
                    return Err(PublishError::GitHubConfig(format!(
                        "cannot build the request for {endpoint}: {}",
                        error_chain(&error)
                    )));
                }
                Err(error) => format!("connection failed: {}", error_chain(&error)),
            };
            let delay = jittered(backoff);
            if retry == Retry::Never || Instant::now() + delay > session.deadline {
                return Err(PublishError::GitHubUnavailable {
                    endpoint: endpoint.to_owned(),
                    attempts,
                    budget_secs: self.retry.budget.as_secs(),
                    last: failure,
                    draft_left: false,
                });
            }
            tracing::warn!(%endpoint, attempts, failure = %failure, delay_ms = delay.as_millis() as u64, "GitHub request failed; retrying");
            tokio::time::sleep(delay).await;
            backoff = (backoff * 2).min(self.retry.max_backoff);
        }
    }

    async fn wait_for_rate_limit(
        &self,
        endpoint: &str,
        wait: Duration,
    ) -> Result<(), PublishError> {
        let cap = self.retry.max_rate_limit_wait;
        if wait > cap {
            return Err(PublishError::RateLimited {
                endpoint: endpoint.to_owned(),
                wait_secs: wait.as_secs(),
                cap_secs: cap.as_secs(),
                draft_left: false,
            });
        }
        tracing::warn!(%endpoint, wait_ms = wait.as_millis() as u64, "GitHub rate limit reached; waiting for it to reset");
        tokio::time::sleep(wait).await;
        Ok(())
    }
}

/// The body of an API answer, at most [`MAX_ANSWER_BYTES`] (checked as it arrives, not only
/// from `Content-Length`); the error says what went wrong.
async fn bounded_body(mut response: reqwest::Response) -> Result<bytes::Bytes, String> {
    if response
        .content_length()
        .is_some_and(|length| length > MAX_ANSWER_BYTES as u64)
    {
        return Err(format!(
            "the answer is larger than {MAX_ANSWER_BYTES} bytes"
        ));
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| format!("the answer broke off: {}", error_chain(&error)))?
    {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(format!(
                "the answer is larger than {MAX_ANSWER_BYTES} bytes"
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// A request body reading `file` from disk in chunks, `size` bytes at most.
fn file_body(file: tokio::fs::File, size: u64) -> reqwest::Body {
    let stream = futures_util::stream::try_unfold(file.take(size), |mut file| async move {
        let mut chunk = BytesMut::with_capacity(UPLOAD_CHUNK);
        let read = file.read_buf(&mut chunk).await?;
        Ok::<_, std::io::Error>((read > 0).then(|| (chunk.freeze(), file)))
    });
    reqwest::Body::wrap_stream(stream)
}

/// How long to wait when the answer is a rate limit: `retry-after`, or until
/// `x-ratelimit-reset` when `x-ratelimit-remaining` is 0; `None` when it is not one.
fn rate_limit_wait(reply: &Reply) -> Option<Duration> {
    if !matches!(reply.status.as_u16(), 403 | 429) {
        return None;
    }
    let header = |name: &str| {
        reply
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
    };
    if let Some(seconds) = header("retry-after").and_then(|text| text.parse::<u64>().ok()) {
        return Some(Duration::from_secs(seconds));
    }
    if header("x-ratelimit-remaining") == Some("0") {
        let reset = header("x-ratelimit-reset").and_then(|text| text.parse::<u64>().ok());
        return Some(match reset {
            Some(reset) => {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default();
                Duration::from_secs(reset).saturating_sub(now) + Duration::from_millis(100)
            }
            None => DEFAULT_RATE_LIMIT_WAIT,
        });
    }
    // A 429 without either header is still a rate limit; a plain 403 is a refusal.
    (reply.status == StatusCode::TOO_MANY_REQUESTS).then_some(DEFAULT_RATE_LIMIT_WAIT)
}

/// Between half and all of `backoff`, so retrying clients do not move in step.
fn jittered(backoff: Duration) -> Duration {
    let half = backoff / 2;
    half + half.mul_f64(fastrand::f64())
}

/// The URL of `rel="next"` in a `Link` header.
fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    link.split(',').find_map(|entry| {
        let (target, params) = entry.split_once(';')?;
        params
            .split(';')
            .any(|param| param.trim() == "rel=\"next\"")
            .then(|| {
                target
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
    })
}

/// A 2xx answer, or the API's refusal as an error carrying its `message`.
pub(crate) fn expect_success(reply: Reply, endpoint: &str) -> Result<Reply, PublishError> {
    if reply.status.is_success() {
        return Ok(reply);
    }
    Err(PublishError::GitHub {
        endpoint: endpoint.to_owned(),
        status: reply.status.as_u16(),
        message: api_message(&reply),
        draft_left: false,
    })
}

fn decode<T: serde::de::DeserializeOwned>(reply: Reply, endpoint: &str) -> Result<T, PublishError> {
    serde_json::from_slice(&reply.body).map_err(|error| PublishError::GitHub {
        endpoint: endpoint.to_owned(),
        status: reply.status.as_u16(),
        message: format!("unexpected answer: {error}"),
        draft_left: false,
    })
}

#[derive(Deserialize, Default)]
struct ApiError {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    errors: Vec<ApiErrorDetail>,
}

#[derive(Deserialize)]
struct ApiErrorDetail {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// The API's `message` (and its `errors`' codes), or a short excerpt of a body that is not
/// the API's JSON.
fn api_message(reply: &Reply) -> String {
    match serde_json::from_slice::<ApiError>(&reply.body) {
        Ok(error) => {
            let mut message = error.message.unwrap_or_else(|| "(no message)".to_owned());
            for detail in error.errors {
                let parts: Vec<String> = [
                    detail.code.map(|code| format!("code {code}")),
                    detail.field.map(|field| format!("field {field}")),
                    detail.message,
                ]
                .into_iter()
                .flatten()
                .collect();
                message.push_str(&format!(" [{}]", parts.join(", ")));
            }
            message
        }
        Err(_) => {
            let text = String::from_utf8_lossy(&reply.body);
            let text: String = text.chars().take(200).collect();
            if text.trim().is_empty() {
                "(empty answer)".to_owned()
            } else {
                text.trim().to_owned()
            }
        }
    }
}

fn error_codes(reply: &Reply) -> Vec<String> {
    serde_json::from_slice::<ApiError>(&reply.body)
        .map(|error| error.errors.into_iter().filter_map(|d| d.code).collect())
        .unwrap_or_default()
}

/// A reqwest error with its causes (reqwest's own message stops at the first).
fn error_chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
