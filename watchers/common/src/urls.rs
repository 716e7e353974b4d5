//! Turning what a feed lists into URLs, against the feed's *upstream* URL.
//!
//! Mirror rewrites are the fetcher's business, so candidates always carry upstream URLs.
//! Names from a feed are untrusted: a listed name is a relative path that must stay in the
//! list's directory (no `..`, `.`, empty segments or backslashes), each segment is
//! percent-encoded so `?`, `#`, `%` and spaces stay part of the name, and only http(s)
//! URLs come out.

use crate::FeedError;
use url::Url;

/// Values substituted into a recipe's URL template.
#[derive(Debug, Clone, Copy)]
pub struct Vars<'a> {
    /// `{name}`: the ISO's file name.
    pub name: &'a str,
    /// `{version}`: the version the feed gave.
    pub version: &'a str,
    /// `{list}`: the file name of the checksum list the digest came from (empty if none).
    pub list: &'a str,
}

/// The placeholders a template may use.
const PLACEHOLDERS: [&str; 3] = ["{name}", "{version}", "{list}"];

/// The feed's URL parsed as a base for what it lists: absolute http(s) with a path.
pub fn base(what: &'static str, url: &str) -> Result<Url, FeedError> {
    Url::parse(url)
        .ok()
        .filter(|base| matches!(base.scheme(), "http" | "https") && !base.cannot_be_a_base())
        .ok_or_else(|| FeedError::BadLink {
            what,
            url: url.to_owned(),
            value: url.to_owned(),
            reason: "not an absolute http(s) URL",
        })
}

/// `url` with its path ending in `/`, so relative names resolve *inside* it (an index URL
/// written without the final slash still names a directory).
pub fn as_directory(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

/// The URL of `name` (a relative path as listed) in the directory of the document at
/// `base`; `None` for names that could leave that directory.
pub fn resolve_listed(base: &Url, name: &str) -> Option<Url> {
    let segments: Vec<&str> = name.split('/').collect();
    if segments
        .iter()
        .any(|segment| matches!(*segment, "" | "." | "..") || segment.contains('\\'))
    {
        return None;
    }
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    {
        let mut path = url.path_segments_mut().ok()?;
        path.pop();
        path.extend(segments);
    }
    Some(url)
}

/// A link of an HTML page at `page`, resolved as a browser would, without its fragment;
/// `None` unless the result is http(s).
pub fn resolve_link(page: &Url, href: &str) -> Option<Url> {
    let mut url = page.join(href).ok()?;
    url.set_fragment(None);
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// The last path segment of `url`, percent-decoded; `None` when it is empty, not UTF-8,
/// or decodes to something that is not one plain name (`/`, `\`, `..`, control characters).
pub fn file_name(url: &Url) -> Option<String> {
    decode_segment(url.path_segments()?.next_back()?)
}

/// One percent-encoded path segment, decoded; `None` unless it is a [`plain_segment`].
pub fn decode_segment(segment: &str) -> Option<String> {
    let decoded = percent_decode(segment)?;
    plain_segment(&decoded).then_some(decoded)
}

/// Whether `name` can be one path segment: not empty, not `.` or `..`, no `/`, `\` or
/// control characters, at most 255 bytes.
pub fn plain_segment(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && !name.chars().any(char::is_control)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Checks a recipe's URL template: only `{name}`, `{version}` and `{list}` placeholders,
/// no other braces, not empty.
pub fn check_template(template: &str) -> Result<(), String> {
    if template.trim().is_empty() {
        return Err("the template is empty".to_owned());
    }
    let mut rest = template.to_owned();
    for placeholder in PLACEHOLDERS {
        rest = rest.replace(placeholder, "");
    }
    if rest.contains(['{', '}']) {
        return Err(format!(
            "`{template}` has an unknown placeholder; use {}",
            PLACEHOLDERS.join(", ")
        ));
    }
    Ok(())
}

/// Resolves a recipe's template (`{name}.sha256`, `sha256sums.txt`, `../SHA256SUMS`,
/// `SHA256SUMS.gpg`, an absolute URL) against the directory of `base`. Substituted values
/// must be plain names and are percent-encoded; the template's own `..` segments are
/// honoured (the recipe is trusted, the feed is not). `None` when a substituted value is
/// not a plain name or the result is not http(s).
pub fn resolve_template(base: &Url, template: &str, vars: Vars<'_>) -> Option<Url> {
    if [vars.name, vars.version]
        .iter()
        .any(|value| !plain_segment(value))
        || (!vars.list.is_empty() && !plain_segment(vars.list))
    {
        return None;
    }
    if template.starts_with("http://") || template.starts_with("https://") {
        let text = template
            .replace("{name}", vars.name)
            .replace("{version}", vars.version)
            .replace("{list}", vars.list);
        return Url::parse(&text)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https"));
    }
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    {
        let mut path = url.path_segments_mut().ok()?;
        path.pop();
        for segment in template.split('/') {
            match segment {
                "" | "." => {}
                ".." => {
                    path.pop();
                }
                _ => {
                    let value = segment
                        .replace("{name}", vars.name)
                        .replace("{version}", vars.version)
                        .replace("{list}", vars.list);
                    path.push(&value);
                }
            }
        }
    }
    Some(url)
}

/// Where the recipe's `signature` template puts the signature of `candidate`: resolved with
/// [`resolve_template`] against the checksum list its digest came from (or, when the feed
/// carried the digest, the ISO), with `{name}` the ISO's name, `{version}` its version and
/// `{list}` the list's file name. `None` when the template gives no http(s) URL for it.
pub fn signature_url(template: &str, candidate: &repack_core::Candidate) -> Option<Url> {
    let base = candidate
        .checksum_url
        .as_deref()
        .unwrap_or(&candidate.iso_url);
    let list = candidate
        .checksum_url
        .as_deref()
        .and_then(|url| Url::parse(url).ok())
        .and_then(|url| file_name(&url))
        .unwrap_or_default();
    let vars = Vars {
        name: &candidate.iso_name,
        version: &candidate.version,
        list: &list,
    };
    Url::parse(base)
        .ok()
        .and_then(|base| resolve_template(&base, template, vars))
}

/// What a signature at a URL signs, judged from where it is beside the candidate's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureOver {
    /// The checksum list is clearsigned: the signature's URL is the list's (Fedora's
    /// `CHECKSUM`).
    ClearsignedList,
    /// A detached signature over the checksum list: the list's URL plus a suffix (Ubuntu's
    /// `SHA256SUMS.gpg`, Debian's `SHA256SUMS.sign`, `<iso>.sha256.asc`), or anywhere else
    /// that is not beside the ISO.
    List,
    /// A detached signature over the ISO: the ISO's URL plus a suffix (Arch's and
    /// Manjaro's `<iso>.sig`) and not the list's.
    Iso,
}

/// What the signature at `signature_url` signs for `candidate`. The list is looked at first:
/// a per-ISO list (`<iso>.sha256`) starts with the ISO's URL too, and so does its signature.
pub fn signature_over(signature_url: &str, candidate: &repack_core::Candidate) -> SignatureOver {
    match candidate.checksum_url.as_deref() {
        Some(list) if signature_url == list => SignatureOver::ClearsignedList,
        Some(list) if signature_url.starts_with(list) => SignatureOver::List,
        _ if signature_url.starts_with(&candidate.iso_url) => SignatureOver::Iso,
        _ => SignatureOver::List,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(name: &'a str, version: &'a str) -> Vars<'a> {
        Vars {
            name,
            version,
            list: "SHA256SUMS",
        }
    }

    #[test]
    fn names_resolve_in_the_list_directory_with_encoding() {
        let base = Url::parse("https://cd.example/live/12/SHA256SUMS?x=1#f").unwrap();
        let cases = [
            ("a.iso", "https://cd.example/live/12/a.iso"),
            ("sub/a b.iso", "https://cd.example/live/12/sub/a%20b.iso"),
            ("a#1?.iso", "https://cd.example/live/12/a%231%3F.iso"),
            ("100%.iso", "https://cd.example/live/12/100%25.iso"),
            ("http://evil/x.iso", ""),
        ];
        for (name, expected) in cases {
            let resolved = resolve_listed(&base, name)
                .map(String::from)
                .unwrap_or_default();
            assert_eq!(resolved, expected, "{name}");
        }
    }

    #[test]
    fn escaping_names_do_not_resolve() {
        let base = Url::parse("https://cd.example/live/SHA256SUMS").unwrap();
        for name in [
            "../a.iso",
            "a/../../b.iso",
            "/etc/a.iso",
            "./a.iso",
            "a\\..\\b",
            "a//b",
        ] {
            assert!(resolve_listed(&base, name).is_none(), "{name}");
        }
    }

    #[test]
    fn templates_resolve_next_to_the_base() {
        let iso = Url::parse("https://dl.example/kde/25.0.1/manjaro-kde-25.0.1.iso").unwrap();
        let at = |template: &str| {
            resolve_template(&iso, template, vars("manjaro-kde-25.0.1.iso", "25.0.1"))
                .map(String::from)
                .unwrap_or_default()
        };
        assert_eq!(
            at("{name}.sha256"),
            "https://dl.example/kde/25.0.1/manjaro-kde-25.0.1.iso.sha256"
        );
        assert_eq!(
            at("sha256sums.txt"),
            "https://dl.example/kde/25.0.1/sha256sums.txt"
        );
        assert_eq!(at("../SHA256SUMS"), "https://dl.example/kde/SHA256SUMS");
        assert_eq!(
            at("{list}.gpg"),
            "https://dl.example/kde/25.0.1/SHA256SUMS.gpg"
        );
        assert_eq!(
            at("https://sig.example/{version}/{name}.sig"),
            "https://sig.example/25.0.1/manjaro-kde-25.0.1.iso.sig"
        );
        // A hostile name from the feed cannot steer the template.
        assert!(resolve_template(&iso, "{name}.sha256", vars("../x", "1")).is_none());
        assert_eq!(
            resolve_template(&iso, "{name}.sha256", vars("a?b#c", "1"))
                .unwrap()
                .as_str(),
            "https://dl.example/kde/25.0.1/a%3Fb%23c.sha256"
        );
    }

    #[test]
    fn templates_are_checked() {
        assert!(check_template("{name}.sha256").is_ok());
        assert!(
            check_template("{nmae}.sha256")
                .unwrap_err()
                .contains("{name}")
        );
        assert!(check_template(" ").is_err());
    }

    #[test]
    fn file_names_are_decoded_plain_segments() {
        let name = |text: &str| file_name(&Url::parse(text).unwrap());
        assert_eq!(
            name("https://a/x/b%20c.iso?q=1").as_deref(),
            Some("b c.iso")
        );
        assert_eq!(name("https://a/x/"), None);
        assert_eq!(name("https://a/x/a%2Fb.iso"), None);
        assert_eq!(name("https://a/x/%zz.iso"), None);
    }

    #[test]
    fn a_signature_is_over_the_list_it_sits_beside_before_the_iso() {
        let candidate = |list: Option<&str>| {
            let mut candidate = repack_core::Candidate::new(
                "kde",
                "1",
                repack_core::Arch::X86_64,
                "https://m.example/kde/k-1.iso",
                "k-1.iso",
                repack_core::Checksum::Sha256(repack_core::Sha256Digest::of(b"k-1")),
            );
            candidate.checksum_url = list.map(str::to_owned);
            candidate
        };
        let per_iso = candidate(Some("https://m.example/kde/k-1.iso.sha256"));
        let shared = candidate(Some("https://m.example/kde/SHA256SUMS"));
        let none = candidate(None);
        let cases = [
            (
                &per_iso,
                "https://m.example/kde/k-1.iso.sha256",
                SignatureOver::ClearsignedList,
            ),
            (
                &per_iso,
                "https://m.example/kde/k-1.iso.sha256.asc",
                SignatureOver::List,
            ),
            (
                &per_iso,
                "https://m.example/kde/k-1.iso.sig",
                SignatureOver::Iso,
            ),
            (
                &shared,
                "https://m.example/kde/SHA256SUMS.gpg",
                SignatureOver::List,
            ),
            (
                &shared,
                "https://m.example/kde/k-1.iso.sig",
                SignatureOver::Iso,
            ),
            (&shared, "https://m.example/SIGNATURES", SignatureOver::List),
            (
                &none,
                "https://m.example/kde/k-1.iso.sig",
                SignatureOver::Iso,
            ),
        ];
        for (candidate, url, expected) in cases {
            assert_eq!(signature_over(url, candidate), expected, "{url}");
        }
    }
}
