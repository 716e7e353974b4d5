//! Body hygiene shared by every text feed, applied before any parser sees the text.

use crate::FeedError;

/// The text without a leading UTF-8 byte-order mark (Windows tools write one; parsers of
/// checksum lists, JSON and YAML would choke on it or read it into the first name).
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// A checksum list, JSON or YAML document never starts with `<`; an HTML or XML page
/// (after an optional byte-order mark and white space) always does.
pub fn looks_like_html(text: &str) -> bool {
    strip_bom(text).trim_start().starts_with('<')
}

/// The body of a non-HTML document (`what` at `url`), ready to parse: the byte-order mark
/// dropped; an HTML page is [`FeedError::HtmlPage`] and a blank body is
/// [`FeedError::Empty`].
pub fn document<'a>(what: &'static str, url: &str, text: &'a str) -> Result<&'a str, FeedError> {
    if looks_like_html(text) {
        return Err(FeedError::HtmlPage {
            what,
            url: url.to_owned(),
        });
    }
    let text = strip_bom(text);
    if text.trim().is_empty() {
        return Err(FeedError::Empty {
            what,
            url: url.to_owned(),
        });
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_recognised_behind_bom_and_blanks() {
        assert!(looks_like_html("\n  <!DOCTYPE html><html>"));
        assert!(looks_like_html("\u{feff}<html>"));
        assert!(!looks_like_html("abc  a.iso"));
        assert!(!looks_like_html("[{\"a\": \"<b>\"}]"));
    }

    #[test]
    fn documents_lose_their_bom_and_blank_ones_are_empty() {
        assert_eq!(document("feed", "u", "\u{feff}[1]").unwrap(), "[1]");
        assert_eq!(
            document("feed", "u", " \r\n").unwrap_err().kind(),
            "feed-empty"
        );
        assert_eq!(
            document("feed", "u", "\u{feff}<html>").unwrap_err().kind(),
            "feed-html-page"
        );
    }
}
