//! Mirror rewrites: fetch from a local mirror instead of upstream, by URL prefix.

use std::fmt;
use std::str::FromStr;

/// Replaces the prefix `from` of a URL with `to`. The longest matching prefix wins when
/// several rewrites apply (see [`MirrorRewrite::apply_all`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct MirrorRewrite {
    pub from: String,
    pub to: String,
}

/// Occurs when a rewrite written as `FROM=TO` has no `=` or an empty side.
#[derive(Debug, thiserror::Error)]
#[error("mirror rewrite `{0}` must look like `https://upstream/prefix/=http://mirror/prefix/`")]
pub struct MirrorRewriteError(pub String);

impl MirrorRewrite {
    /// Applies the longest matching rewrite of `rewrites` to `url`; no match leaves it alone.
    pub fn apply_all(rewrites: &[MirrorRewrite], url: &str) -> String {
        rewrites
            .iter()
            .filter(|rewrite| url.starts_with(&rewrite.from))
            .max_by_key(|rewrite| rewrite.from.len())
            .map(|rewrite| format!("{}{}", rewrite.to, &url[rewrite.from.len()..]))
            .unwrap_or_else(|| url.to_owned())
    }

    /// Parses a `;`-separated list of `FROM=TO` rewrites (the form used in environment variables).
    pub fn parse_list(text: &str) -> Result<Vec<MirrorRewrite>, MirrorRewriteError> {
        text.split(';')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::parse)
            .collect()
    }
}

impl FromStr for MirrorRewrite {
    type Err = MirrorRewriteError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.split_once('=') {
            Some((from, to)) if !from.is_empty() && !to.is_empty() => Ok(MirrorRewrite {
                from: from.to_owned(),
                to: to.to_owned(),
            }),
            _ => Err(MirrorRewriteError(text.to_owned())),
        }
    }
}

impl fmt::Display for MirrorRewrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.from, self.to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins_and_unmatched_urls_pass_through() {
        let rewrites = MirrorRewrite::parse_list(
            "https://cd.example/=http://127.0.0.1:1/all/;https://cd.example/live/=http://127.0.0.1:1/live/",
        )
        .unwrap();
        assert_eq!(
            MirrorRewrite::apply_all(&rewrites, "https://cd.example/live/a.iso"),
            "http://127.0.0.1:1/live/a.iso"
        );
        assert_eq!(
            MirrorRewrite::apply_all(&rewrites, "https://cd.example/other"),
            "http://127.0.0.1:1/all/other"
        );
        assert_eq!(
            MirrorRewrite::apply_all(&rewrites, "https://elsewhere/x"),
            "https://elsewhere/x"
        );
    }

    #[test]
    fn malformed_rewrite_is_an_error() {
        assert!(MirrorRewrite::parse_list("no-equals-sign").is_err());
        assert!(MirrorRewrite::parse_list("=http://x/").is_err());
    }
}
