//! Credentials for the GitHub API: a token, or a GitHub App installation.
//!
//! An app authenticates with a JSON Web Token (RS256, signed with the app's private key,
//! valid for 9 minutes, `iss` = the app id), which only buys an installation access token
//! (`POST /app/installations/{id}/access_tokens`); that token (valid for an hour) then
//! authenticates every request, and a fresh one is minted 5 minutes before it expires.
//! Neither the key, the JWT nor any token is ever logged or printed (custom `Debug`).

use super::Token;
use crate::PublishError;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// An installation token is replaced this long before it expires.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// How long an installation token is assumed valid (GitHub: one hour).
const INSTALLATION_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// How the publisher authenticates.
#[derive(Clone, Debug)]
pub enum Credentials {
    /// A personal access token or `GITHUB_TOKEN`.
    Token(Token),
    /// A GitHub App installation.
    App(AppCredentials),
}

impl From<Token> for Credentials {
    fn from(token: Token) -> Credentials {
        Credentials::Token(token)
    }
}

/// A GitHub App: its id, the installation on the repository's owner, its private key.
#[derive(Clone)]
pub struct AppCredentials {
    pub app_id: u64,
    pub installation_id: u64,
    key: Arc<RsaPrivateKey>,
}

impl fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppCredentials")
            .field("app_id", &self.app_id)
            .field("installation_id", &self.installation_id)
            .field("key", &"***")
            .finish()
    }
}

impl AppCredentials {
    /// The app's private key as GitHub hands it out (PEM, PKCS#1 `RSA PRIVATE KEY`) or as
    /// PKCS#8 (`PRIVATE KEY`).
    pub fn from_pem(
        app_id: u64,
        installation_id: u64,
        pem: &str,
    ) -> Result<AppCredentials, PublishError> {
        let key = RsaPrivateKey::from_pkcs1_pem(pem)
            .or_else(|_| RsaPrivateKey::from_pkcs8_pem(pem))
            .map_err(|_| {
                PublishError::GitHubConfig(
                    "the GitHub App private key is not an RSA key in PEM (PKCS#1 or PKCS#8)"
                        .to_owned(),
                )
            })?;
        Ok(AppCredentials {
            app_id,
            installation_id,
            key: Arc::new(key),
        })
    }

    /// A JWT for the app, valid from a minute ago (clock drift) for 9 minutes.
    pub(crate) fn jwt(&self) -> Result<String, PublishError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let claims = serde_json::json!({
            "iat": now.saturating_sub(60),
            "exp": now + 540,
            "iss": self.app_id.to_string(),
        });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{claims}");
        let signer = rsa::pkcs1v15::SigningKey::<sha2_010::Sha256>::new((*self.key).clone());
        let signature = signer
            .try_sign(signing_input.as_bytes())
            .map_err(|_| PublishError::GitHubConfig("cannot sign the GitHub App JWT".to_owned()))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        ))
    }
}

/// The token to send now, minting (and caching) an installation token for an app.
#[derive(Debug)]
pub(crate) struct Auth {
    credentials: Credentials,
    installation: tokio::sync::Mutex<Option<(Token, Instant)>>,
}

impl Auth {
    pub fn new(credentials: Credentials) -> Auth {
        Auth {
            credentials,
            installation: tokio::sync::Mutex::new(None),
        }
    }

    pub fn is_empty(&self) -> bool {
        matches!(&self.credentials, Credentials::Token(token) if token.is_empty())
    }

    /// The token for the next request; `mint` turns an app JWT into an installation token
    /// (and its lifetime, when the API says).
    pub async fn token<F, Fut>(&self, mint: F) -> Result<Token, PublishError>
    where
        F: FnOnce(u64, String) -> Fut,
        Fut: std::future::Future<Output = Result<(Token, Option<Duration>), PublishError>>,
    {
        let app = match &self.credentials {
            Credentials::Token(token) => return Ok(token.clone()),
            Credentials::App(app) => app,
        };
        let mut cached = self.installation.lock().await;
        if let Some((token, expires)) = &*cached
            && Instant::now() + REFRESH_MARGIN < *expires
        {
            return Ok(token.clone());
        }
        let (token, lifetime) = mint(app.installation_id, app.jwt()?).await?;
        let expires = Instant::now() + lifetime.unwrap_or(INSTALLATION_TOKEN_LIFETIME);
        tracing::info!(
            app_id = app.app_id,
            installation = app.installation_id,
            "GitHub App installation token minted"
        );
        *cached = Some((token.clone(), expires));
        Ok(token)
    }
}
