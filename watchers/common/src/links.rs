//! The links of an HTML page: directory listings (Apache and nginx autoindex, lighttpd,
//! mirrorbits) and download pages.
//!
//! The page is parsed by `scraper` (html5ever, the WHATWG algorithm browsers use), so
//! comments, scripts and broken markup do not produce links that a browser would not show.
//! Only `href`s of `<a>` elements are returned, in document order, each once, at most
//! [`MAX_LINKS`] of them.

use scraper::{Html, Selector};

/// Most distinct links taken from one page. A listing of every Ubuntu release has about a
/// hundred; a page with more is not a release index.
pub const MAX_LINKS: usize = 20_000;

/// The distinct `href` values of the page's `<a>` elements (entities decoded, surrounding
/// white space trimmed, empty ones and fragment-only ones left out), in document order; at
/// most [`MAX_LINKS`]. `truncated` says whether more were left out.
pub fn hrefs(html: &str) -> Links {
    let document = Html::parse_document(html);
    let selector = Selector::parse("a[href]").expect("constant selector");
    let mut seen = std::collections::HashSet::new();
    let mut links = Links::default();
    for element in document.select(&selector) {
        let Some(href) = element.value().attr("href").map(str::trim) else {
            continue;
        };
        if href.is_empty() || href.starts_with('#') || seen.contains(href) {
            continue;
        }
        if links.hrefs.len() == MAX_LINKS {
            links.truncated = true;
            break;
        }
        seen.insert(href.to_owned());
        links.hrefs.push(href.to_owned());
    }
    links
}

/// The links of one page.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Links {
    pub hrefs: Vec<String>,
    /// More than [`MAX_LINKS`] distinct links were found; the rest were left out.
    pub truncated: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apache_listing_links_come_out_once_in_order() {
        let page = r##"<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<html><head><title>Index of /releases</title></head><body>
<h1>Index of /releases</h1>
<table><tr><th><a href="?C=N;O=D">Name</a></th></tr>
<tr><td><a href="/">Parent Directory</a></td></tr>
<tr><td><a href="24.04/">24.04/</a></td></tr>
<tr><td><a href="24.04/">again</a></td></tr>
<tr><td><a href='noble/'>noble/</a></td></tr>
<!-- <a href="hidden/">x</a> -->
<script>var s = '<a href="script/">';</script>
<tr><td><a href="a&amp;b.iso">a&amp;b.iso</a></td></tr>
<tr><td><a href="#top">top</a><a>no href</a></td></tr>
</table></body></html>"##;
        let links = hrefs(page);
        assert_eq!(
            links.hrefs,
            ["?C=N;O=D", "/", "24.04/", "noble/", "a&b.iso"]
        );
        assert!(!links.truncated);
    }
}
