//! Errors of checksum-list parsing. Each names the line it is about (1-based) and has a
//! stable [`VerifyError::kind`] for metrics and the catalogue.

/// Occurs when a checksum list cannot be trusted to say what each file must hash to.
/// Nothing is returned from a list with any error: a half-parsed list is never used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Occurs when the whole list is larger than the limit.
    #[error("checksum list is {size} bytes, more than the limit of {limit} bytes")]
    ListTooLarge { size: usize, limit: usize },
    /// Occurs when one line is longer than the limit.
    #[error("checksum list line {line} is {len} bytes long, more than the limit of {limit} bytes")]
    LineTooLong {
        line: usize,
        len: usize,
        limit: usize,
    },
    /// Occurs when the list has more entries than the limit.
    #[error("checksum list has more than {limit} entries (line {line})")]
    TooManyEntries { line: usize, limit: usize },
    /// Occurs when a line is neither blank, a `#` comment, nor a SHA-256 entry in GNU or BSD form.
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
        }
    }

    /// The 1-based line the error is about, if it is about one line.
    pub fn line(&self) -> Option<usize> {
        match self {
            VerifyError::ListTooLarge { .. } => None,
            VerifyError::LineTooLong { line, .. }
            | VerifyError::TooManyEntries { line, .. }
            | VerifyError::Malformed { line, .. }
            | VerifyError::ConflictingDuplicate { line, .. } => Some(*line),
        }
    }
}
