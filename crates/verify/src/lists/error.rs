//! Errors of checksum-list parsing. Each names the line it is about (1-based) when there is
//! one, says what was wrong, and has a stable [`VerifyError::kind`] for metrics and the
//! catalogue.

/// Occurs when a checksum list cannot be trusted to say what each file must hash to.
/// Nothing is returned from a list with any error: a half-parsed list is never used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Occurs when the whole list is larger than the limit (checked before parsing).
    #[error("checksum list is {size} bytes, more than the limit of {limit} bytes")]
    ListTooLarge { size: usize, limit: usize },
    /// Occurs when one line is longer than the limit.
    #[error("checksum list line {line} is {len} bytes long, more than the limit of {limit} bytes")]
    LineTooLong {
        line: usize,
        len: usize,
        limit: usize,
    },
    /// Occurs when the list has more entries than the limit (for a one-file companion such
    /// as `X.iso.sha256` the limit is 1).
    #[error("checksum list has more than {limit} entries (line {line})")]
    TooManyEntries { line: usize, limit: usize },
    /// Occurs when a line is neither blank, a `#` comment, nor a checksum entry in GNU or
    /// BSD form.
    #[error("checksum list line {line}: {reason}: `{excerpt}`")]
    Malformed {
        line: usize,
        reason: &'static str,
        /// The start of the line (at most 80 characters), for the message.
        excerpt: String,
    },
    /// Occurs when one name is listed twice with different digests.
    #[error(
        "checksum list names `{name}` twice with different digests (line {first_line}: {first}, line {line}: {second})"
    )]
    ConflictingDuplicate {
        name: String,
        first_line: usize,
        first: String,
        line: usize,
        second: String,
    },
    /// Occurs when the bytes of the list are not UTF-8.
    #[error("checksum list line {line} is not UTF-8 text")]
    NotUtf8 { line: usize },
    /// Occurs when a line starts with `<`: an HTML or XML page (an error, login or
    /// maintenance page served with status 200) arrived instead of a list.
    #[error("checksum list line {line} starts with `<`: this is an HTML page, not a checksum list")]
    HtmlPage { line: usize },
    /// Occurs when a list that must name files has no SHA-256 entry: it is empty, holds only
    /// comments, or holds only digests of other algorithms.
    #[error(
        "checksum list has no SHA-256 entry in its {lines} lines{}",
        match (other_digests, first_other_line) {
            (0, _) | (_, None) => String::new(),
            (n, Some(line)) => format!(
                " ({n} SHA-512/BLAKE2b digests from line {line}: the wrong list?)"
            ),
        }
    )]
    NoSha256Entries {
        lines: usize,
        other_digests: usize,
        first_other_line: Option<usize>,
    },
    /// Occurs when a one-file companion (`X.iso.sha256`) names a different file.
    #[error("checksum line {line} is for `{found}`, not `{expected}`")]
    NameMismatch {
        line: usize,
        expected: String,
        found: String,
    },
}

impl VerifyError {
    /// A stable, short identifier of the failure, for metrics labels and the catalogue.
    pub fn kind(&self) -> &'static str {
        match self {
            VerifyError::ListTooLarge { .. } => "checksum-list-too-large",
            VerifyError::LineTooLong { .. } => "checksum-line-too-long",
            VerifyError::TooManyEntries { .. } => "checksum-list-too-many-entries",
            VerifyError::Malformed { .. } => "checksum-line-malformed",
            VerifyError::ConflictingDuplicate { .. } => "checksum-duplicate-name",
            VerifyError::NotUtf8 { .. } => "checksum-list-not-utf8",
            VerifyError::HtmlPage { .. } => "checksum-list-html",
            VerifyError::NoSha256Entries { .. } => "checksum-list-empty",
            VerifyError::NameMismatch { .. } => "checksum-name-mismatch",
        }
    }

    /// The 1-based line the error is about, if it is about one line.
    pub fn line(&self) -> Option<usize> {
        match self {
            VerifyError::ListTooLarge { .. } => None,
            VerifyError::NoSha256Entries {
                first_other_line, ..
            } => *first_other_line,
            VerifyError::LineTooLong { line, .. }
            | VerifyError::TooManyEntries { line, .. }
            | VerifyError::Malformed { line, .. }
            | VerifyError::ConflictingDuplicate { line, .. }
            | VerifyError::NotUtf8 { line }
            | VerifyError::HtmlPage { line }
            | VerifyError::NameMismatch { line, .. } => Some(*line),
        }
    }
}
