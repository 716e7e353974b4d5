//! The [`Fetcher`]: one HTTP client, the mirror rewrites, the retry policy, the per-host
//! limit, and [`Fetcher::fetch_text`]. Conditional document requests are in `document.rs`,
//! ISO downloads in `iso.rs`.

use crate::document::{Conditional, DocumentValidators};
use crate::hosts::{HostLimits, HostPermit};
use crate::{FetchConfig, FetchError};
use repack_core::MirrorRewrite;
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH,
};
use std::sync::Arc;

/// Downloads documents and ISOs. Cheap to clone; clones share connections and the per-host
/// limit ([`FetchConfig::per_host_limit`]).
#[derive(Debug, Clone)]
pub struct Fetcher {
    pub(crate) client: reqwest::Client,
    pub(crate) config: Arc<FetchConfig>,
    hosts: Arc<HostLimits>,
}

/// The URL a caller asked for and the one requested after mirror rewrites.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub url: String,
    pub mirror_url: String,
}

/// How one attempt failed; turned into a [`FetchError`] once retries are spent.
#[derive(Debug)]
pub(crate) enum Failure {
    /// No response.
    Connect(reqwest::Error),
    /// A response with an unexpected status.
    Status(StatusCode),
    /// The body broke off at `offset`.
    Interrupted {
        offset: u64,
        detail: String,
        source: Option<reqwest::Error>,
    },
    /// Not worth retrying.
    Fatal(FetchError),
}

impl Failure {
    fn retryable(&self) -> bool {
        match self {
            Failure::Connect(_) | Failure::Interrupted { .. } => true,
            Failure::Status(status) => {
                status.is_server_error()
                    || *status == StatusCode::REQUEST_TIMEOUT
                    || *status == StatusCode::TOO_MANY_REQUESTS
            }
            Failure::Fatal(_) => false,
        }
    }

    fn into_error(self, target: &Target, attempts: u32) -> FetchError {
        let url = target.url.clone();
        let mirror_url = target.mirror_url.clone();
        match self {
            Failure::Connect(source) => FetchError::Connect {
                url,
                mirror_url,
                attempts,
                source,
            },
            Failure::Status(status) => FetchError::Status {
                url,
                mirror_url,
                status: status.as_u16(),
                attempts,
            },
            Failure::Interrupted {
                offset,
                detail,
                source,
            } => FetchError::Interrupted {
                url,
                mirror_url,
                offset,
                attempts,
                detail,
                source,
            },
            Failure::Fatal(error) => error,
        }
    }
}

impl Target {
    pub fn fatal_protocol(&self, detail: impl Into<String>) -> Failure {
        Failure::Fatal(FetchError::Protocol {
            url: self.url.clone(),
            mirror_url: self.mirror_url.clone(),
            detail: detail.into(),
        })
    }

    pub fn io_error(
        &self,
        action: &'static str,
        path: &std::path::Path,
        source: std::io::Error,
    ) -> FetchError {
        FetchError::Io {
            url: self.url.clone(),
            mirror_url: self.mirror_url.clone(),
            action,
            path: path.to_owned(),
            source,
        }
    }
}

impl Target {
    /// Refuses a body the server encoded although `Accept-Encoding: identity` was sent: its
    /// bytes are not the file's bytes, so neither a hash nor a size limit would mean anything.
    pub fn require_identity(&self, headers: &HeaderMap) -> Result<(), Failure> {
        match headers.get(CONTENT_ENCODING).map(|v| v.to_str().unwrap_or("?").trim()) {
            None | Some("") => Ok(()),
            Some(coding) if coding.eq_ignore_ascii_case("identity") => Ok(()),
            Some(coding) => Err(self.fatal_protocol(format!(
                "the server sent the body with Content-Encoding `{coding}` although `identity` was asked for"
            ))),
        }
    }
}

impl Fetcher {
    /// Builds the HTTP client. Transparent decompression is switched off (even if another
    /// crate enables reqwest's codec features) so the bytes hashed are the bytes served.
    pub fn new(config: FetchConfig) -> Result<Fetcher, FetchError> {
        let client = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .no_gzip()
            .no_brotli()
            .no_deflate()
            .no_zstd()
            .build()
            .map_err(|source| FetchError::Client { source })?;
        Ok(Fetcher {
            client,
            hosts: Arc::new(HostLimits::new(config.per_host_limit)),
            config: Arc::new(config),
        })
    }

    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    /// Waits for a slot of the per-host limit of the host `url` is requested from (after
    /// mirror rewrites), for a request made with another client (the GitHub API's). Hold
    /// the permit until the response's body is read.
    pub async fn host_permit(&self, url: &str) -> HostPermit {
        self.hosts.acquire(&self.mirror_url(url)).await
    }

    /// The URL that is requested for the upstream `url` (the mirror rewrite applied).
    pub fn mirror_url(&self, url: &str) -> String {
        MirrorRewrite::apply_all(&self.config.rewrites, url)
    }

    pub(crate) fn target(&self, url: &str) -> Result<Target, FetchError> {
        let mirror_url = self.mirror_url(url);
        let valid = |text: &str| {
            reqwest::Url::parse(text)
                .is_ok_and(|parsed| matches!(parsed.scheme(), "http" | "https"))
        };
        if !valid(url) || !valid(&mirror_url) {
            return Err(FetchError::InvalidUrl {
                url: url.to_owned(),
                mirror_url,
            });
        }
        Ok(Target {
            url: url.to_owned(),
            mirror_url,
        })
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retries are spent, sleeping
    /// with jittered exponential backoff between tries. Each attempt holds a slot of its
    /// host's limit; the wait before a retry does not.
    pub(crate) async fn with_retries<T, F, Fut>(
        &self,
        target: &Target,
        mut attempt: F,
    ) -> Result<T, FetchError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let permit = self.hosts.acquire(&target.mirror_url).await;
            let result = attempt().await;
            drop(permit);
            match result {
                Ok(value) => return Ok(value),
                Err(failure) if failure.retryable() && attempts <= self.config.retries => {
                    let wait = self.config.backoff(attempts);
                    tracing::warn!(
                        url = %target.url,
                        mirror_url = %target.mirror_url,
                        attempt = attempts,
                        retry_in_ms = wait.as_millis() as u64,
                        failure = ?failure,
                        "fetch attempt failed; retrying"
                    );
                    tokio::time::sleep(wait).await;
                }
                Err(failure) => return Err(failure.into_error(target, attempts)),
            }
        }
    }

    /// Fetches a small text document (checksum list, feed) from `url` (upstream spelling).
    ///
    /// The status must be 2xx; the body is refused as soon as it exceeds `max_bytes` (by its
    /// `Content-Length` or while streaming) and must be UTF-8. Temporary failures are retried.
    pub async fn fetch_text(&self, url: &str, max_bytes: u64) -> Result<String, FetchError> {
        match self.fetch_text_if_modified(url, max_bytes, None).await? {
            Conditional::Modified { body, .. } => Ok(body),
            Conditional::NotModified => unreachable!("no validators were sent"),
        }
    }

    /// Fetches a small binary document (an OpenPGP signature, a key) from `url`, with the
    /// same rules as [`fetch_text`](Fetcher::fetch_text) but no UTF-8 requirement.
    pub async fn fetch_bytes(&self, url: &str, max_bytes: u64) -> Result<Vec<u8>, FetchError> {
        match self.fetch_bytes_if_modified(url, max_bytes, None).await? {
            Conditional::Modified { body, .. } => Ok(body),
            Conditional::NotModified => unreachable!("no validators were sent"),
        }
    }

    /// One GET of a document. With `known` validators the request is conditional, and a
    /// 304 is [`Conditional::NotModified`] without a body being read.
    pub(crate) async fn try_fetch_bytes(
        &self,
        target: &Target,
        max_bytes: u64,
        known: Option<&DocumentValidators>,
    ) -> Result<Conditional<Vec<u8>>, Failure> {
        let too_large = || {
            Failure::Fatal(FetchError::TooLarge {
                url: target.url.clone(),
                mirror_url: target.mirror_url.clone(),
                limit: max_bytes,
            })
        };
        let mut request = self
            .client
            .get(&target.mirror_url)
            .header(ACCEPT_ENCODING, "identity");
        let known = known.filter(|known| !known.is_empty());
        if let Some(known) = known {
            if let Some(etag) = &known.etag {
                request = request.header(IF_NONE_MATCH, etag);
            }
            if let Some(modified) = &known.last_modified {
                request = request.header(IF_MODIFIED_SINCE, modified);
            }
        }
        let mut response = request.send().await.map_err(Failure::Connect)?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED && known.is_some() {
            // A 304 has no body (RFC 9110, 15.4.5); nothing more is read.
            return Ok(Conditional::NotModified);
        }
        if !status.is_success() {
            return Err(Failure::Status(status));
        }
        target.require_identity(response.headers())?;
        let validators = DocumentValidators::from_headers(response.headers());
        let announced = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        if announced.is_some_and(|length| length > max_bytes) {
            return Err(too_large());
        }
        let capacity = announced.unwrap_or(8 * 1024).min(max_bytes) as usize;
        let mut body = Vec::with_capacity(capacity);
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if (body.len() + chunk.len()) as u64 > max_bytes {
                        return Err(too_large());
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => {
                    return Ok(Conditional::Modified { body, validators });
                }
                Err(source) => {
                    return Err(Failure::Interrupted {
                        offset: body.len() as u64,
                        detail: "the body broke off".to_owned(),
                        source: Some(source),
                    });
                }
            }
        }
    }
}
