//! What may be placed in an iPXE script, from iPXE's own parser (`src/image/script.c`,
//! `src/core/exec.c`, `src/core/settings.c`):
//! - a script is split into lines at `\n`; a trailing `\r` is dropped and a trailing `\`
//!   joins the next line;
//! - a line starting with `:` is a label;
//! - a line is split into words at whitespace, with no quoting or escaping of any kind;
//! - a word starting with `#` starts a comment that runs to the end of the line;
//! - the words `||`, `&&` and `;` end a command and chain the next one;
//! - `${name}` anywhere in a word is replaced by a setting's value (an unset one by nothing);
//! - a command's words starting with `-` are options until the first other word or `--`.
//!
//! Each check returns the reason a value is refused; callers add the field and the value.

/// Longest display text accepted (menus are 80 columns wide).
pub(crate) const MAX_TEXT: usize = 120;

/// Longest label accepted.
pub(crate) const MAX_LABEL: usize = 64;

/// Longest file name or command line accepted.
pub(crate) const MAX_LONG: usize = 2048;

/// Checks shared by every value that goes into a line: printable ASCII only (so no line
/// breaks, no control characters, no bytes a console could misrender), no setting
/// expansion, no comment or chaining words, no trailing line continuation.
fn check_words(value: &str) -> Result<(), &'static str> {
    if let Some(c) = value.chars().find(|c| !(' '..='~').contains(c)) {
        return Err(if c == '\n' || c == '\r' {
            "contains a line break"
        } else if c.is_control() {
            "contains a control character"
        } else {
            "contains a character outside printable ASCII"
        });
    }
    if value.contains("${") {
        return Err("contains `${`, which iPXE would expand as a setting");
    }
    for word in value.split_ascii_whitespace() {
        if word.starts_with('#') {
            return Err("contains a word starting with `#`, which iPXE reads as a comment");
        }
        if matches!(word, "||" | "&&" | ";") {
            return Err(
                "contains `||`, `&&` or `;` as a word, which iPXE reads as a command separator",
            );
        }
    }
    if value.ends_with('\\') {
        return Err("ends with `\\`, which iPXE reads as a line continuation");
    }
    Ok(())
}

/// Text shown to people (names, OS, versions, titles).
pub(crate) fn check_text(value: &str) -> Result<(), &'static str> {
    if value.trim().is_empty() {
        return Err("is empty");
    }
    if value.len() > MAX_TEXT {
        return Err("is longer than 120 characters");
    }
    check_words(value)
}

/// A kernel command line (may be empty).
pub(crate) fn check_cmdline(value: &str) -> Result<(), &'static str> {
    if value.len() > MAX_LONG {
        return Err("is longer than 2048 characters");
    }
    check_words(value)
}

/// An identifier that becomes part of a label and an item name: `[A-Za-z0-9_-]`, not
/// starting with `-` (it would be read as an option).
pub(crate) fn check_label(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        return Err("is empty");
    }
    if value.len() > MAX_LABEL {
        return Err("is longer than 64 characters");
    }
    // iPXE ends a label at whitespace only (`goto_find_label` in `script.c`), and labels are
    // used as goto targets and setting *values*, never setting names (where `.` would
    // separate a settings block): `.` is safe, as recipe ids such as `ubuntu-24.04-live` need.
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
    {
        return Err("may only contain A-Z, a-z, 0-9, `_`, `-` and `.`");
    }
    if value.starts_with('-') {
        return Err("starts with `-`, which iPXE reads as an option");
    }
    Ok(())
}

/// One stored file name or one path segment: `[A-Za-z0-9._+~-]`, not starting with `.` or
/// `-` (so no `.`, `..` or hidden names, no options).
pub(crate) fn check_file_name(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        return Err("is empty");
    }
    if value.len() > 255 {
        return Err("is longer than 255 characters");
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'~' | b'-'))
    {
        return Err("may only contain A-Z, a-z, 0-9, `.`, `_`, `+`, `~` and `-`");
    }
    if value.starts_with(['.', '-']) {
        return Err("starts with `.` or `-`");
    }
    Ok(())
}

/// A relative URL path of one or more safe segments, without leading or trailing `/`.
pub(crate) fn check_path(value: &str) -> Result<(), &'static str> {
    if value.len() > MAX_LONG {
        return Err("is longer than 2048 characters");
    }
    if value.is_empty() {
        return Err("is empty");
    }
    for segment in value.split('/') {
        check_file_name(segment).map_err(|_| {
            "must be `/`-separated segments of A-Z, a-z, 0-9, `.`, `_`, `+`, `~` and `-`, \
             none empty or starting with `.` or `-`"
        })?;
    }
    Ok(())
}

/// The menu's default base URL: `scheme://…`, one word. `${…}` is allowed here on purpose:
/// it is operator configuration, and `http://${next-server}/releases` is a common iPXE idiom.
pub(crate) fn check_base_url(value: &str) -> Result<(), &'static str> {
    if value.len() > MAX_LONG {
        return Err("is longer than 2048 characters");
    }
    let Some((scheme, rest)) = value.split_once("://") else {
        return Err("is not an absolute URL (`http://host/path`)");
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_lowercase())
        && scheme.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'+' | b'.' | b'-')
        });
    if !scheme_ok || rest.is_empty() {
        return Err("is not an absolute URL (`http://host/path`)");
    }
    if let Some(c) = value.chars().find(|c| !('!'..='~').contains(c)) {
        return Err(if c == ' ' {
            "contains a space"
        } else {
            "contains a character outside printable ASCII"
        });
    }
    if value.ends_with('\\') {
        return Err("ends with `\\`, which iPXE reads as a line continuation");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules() {
        assert!(check_text("Debian Live (standard) 12.8.0").is_ok());
        assert!(check_text("Pop!_OS 24.04 & more; really").is_ok());
        for bad in [
            "a\nb",
            "a\rb",
            "a\tb",
            "${x}",
            "a ${net0/ip}",
            "a #b",
            "#a",
            "a || b",
            "a && b",
            "a ; b",
            "a\\",
            "",
            "  ",
            "Café",
        ] {
            assert!(check_text(bad).is_err(), "{bad:?} accepted");
        }
        assert!(check_text(&"x".repeat(121)).is_err());
    }

    #[test]
    fn label_rules() {
        assert!(check_label("debian-live_2").is_ok());
        assert!(check_label("ubuntu-24.04-live").is_ok());
        for bad in ["", "-x", "a b", "a/b", "ä", "a:b", "a${x}"] {
            assert!(check_label(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn path_and_file_rules() {
        assert!(check_path("debian-live/12.8.0-1a2b3c4d").is_ok());
        assert!(check_file_name("filesystem.squashfs.part2").is_ok());
        for bad in [
            "", "/a", "a/", "a//b", "../a", "a/../b", "a/.x", "a b", "a/-x", "a?b",
        ] {
            assert!(check_path(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn base_url_rules() {
        assert!(check_base_url("http://boot.example/releases").is_ok());
        assert!(check_base_url("http://${next-server}/repack").is_ok());
        for bad in [
            "boot.example",
            "http://",
            "http://a b",
            "http://a\n",
            "HTTP://x",
            "://x",
        ] {
            assert!(check_base_url(bad).is_err(), "{bad:?} accepted");
        }
    }
}
