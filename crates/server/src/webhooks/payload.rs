//! Reading an authenticated body: a JSON object whose fields are looked up by dotted path
//! (`release.tag_name`), and the checks on the two values that leave this module, the
//! repository path and the tag name. Both are untrusted: they end up in queue keys, logs and
//! URLs.

use serde_json::Value;
use serde_json::error::Category;

use super::WebhookError;
use super::error::shown;

/// The longest repository path accepted (`owner/name`, or GitLab's `group/sub/project`).
/// GitHub names are at most 39 + 1 + 100 bytes; GitLab nests groups up to 20 levels deep.
pub const MAX_REPOSITORY_BYTES: usize = 255;

/// The longest tag name accepted (git itself has no limit; 255 bytes is any file system's
/// limit for the loose ref file).
pub const MAX_TAG_BYTES: usize = 255;

/// The root object of a delivery's body.
pub(super) struct Payload(serde_json::Map<String, Value>);

impl Payload {
    /// Parses `body` as one JSON object. Syntax errors are reported by position only, never
    /// with an excerpt of the body.
    pub(super) fn parse(body: &[u8]) -> Result<Payload, WebhookError> {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Payload(map)),
            Ok(other) => Err(WebhookError::PayloadMalformed {
                reason: format!("it is a JSON {}", json_type(&other)),
            }),
            Err(error) => {
                let what = match error.classify() {
                    Category::Eof => "it ends early",
                    Category::Syntax | Category::Io => "it is not valid JSON",
                    Category::Data => "it does not fit JSON's limits",
                };
                Err(WebhookError::PayloadMalformed {
                    reason: format!("{what} (line {}, column {})", error.line(), error.column()),
                })
            }
        }
    }

    /// The value at `path`; `None` when absent or `null`.
    fn get(&self, path: &'static str) -> Option<&Value> {
        let mut parts = path.split('.');
        let mut value = self.0.get(parts.next()?)?;
        for part in parts {
            value = value.get(part)?;
        }
        (!value.is_null()).then_some(value)
    }

    /// The string at `path`.
    pub(super) fn str(&self, path: &'static str) -> Result<&str, WebhookError> {
        match self.get(path) {
            None => Err(WebhookError::FieldMissing { field: path }),
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(not_a(path, "string", other)),
        }
    }

    /// The boolean at `path`.
    pub(super) fn bool(&self, path: &'static str) -> Result<bool, WebhookError> {
        self.opt_bool(path)?
            .ok_or(WebhookError::FieldMissing { field: path })
    }

    /// The boolean at `path`, `None` when absent or `null`.
    pub(super) fn opt_bool(&self, path: &'static str) -> Result<Option<bool>, WebhookError> {
        match self.get(path) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(not_a(path, "boolean", other)),
        }
    }

    /// The repository path at `path`, checked by [`repository`].
    pub(super) fn repository(
        &self,
        path: &'static str,
        segments: Segments,
    ) -> Result<String, WebhookError> {
        repository(self.str(path)?, segments).map_err(|reason| WebhookError::FieldInvalid {
            field: path,
            reason,
        })
    }

    /// The tag name at `path`, checked by [`tag`]; a leading `refs/tags/` is removed (some
    /// payloads carry the full ref, some the short name).
    pub(super) fn tag(&self, path: &'static str) -> Result<String, WebhookError> {
        let value = self.str(path)?;
        let name = value.strip_prefix("refs/tags/").unwrap_or(value);
        tag(name).map_err(|reason| WebhookError::FieldInvalid {
            field: path,
            reason,
        })
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn not_a(field: &'static str, wanted: &str, found: &Value) -> WebhookError {
    WebhookError::FieldInvalid {
        field,
        reason: format!("is a {}, not a {wanted}", json_type(found)),
    }
}

/// How many `/`-separated segments a repository path has.
#[derive(Debug, Clone, Copy)]
pub(super) enum Segments {
    /// `owner/name` (GitHub, Forgejo, Gitea).
    Two,
    /// `namespace/…/project`, two or more (GitLab's `path_with_namespace`).
    TwoOrMore,
}

/// Checks a repository path: at most [`MAX_REPOSITORY_BYTES`], `/`-separated segments of
/// ASCII letters, digits, `.`, `_` and `-` (the characters all three forges allow in owner,
/// group and project paths), none empty, `.` or `..`, nor starting with `-` or `.`.
fn repository(value: &str, segments: Segments) -> Result<String, String> {
    let invalid = |why: &str| {
        format!(
            "`{}` is not a repository path: {why}",
            shown(value.as_bytes())
        )
    };
    if value.len() > MAX_REPOSITORY_BYTES {
        return Err(invalid("it is longer than 255 bytes"));
    }
    let count = value.split('/').count();
    match segments {
        Segments::Two if count != 2 => return Err(invalid("it is not `owner/name`")),
        Segments::TwoOrMore if count < 2 => return Err(invalid("it has no namespace")),
        _ => {}
    }
    for segment in value.split('/') {
        if segment.is_empty() {
            return Err(invalid("it has an empty segment"));
        }
        if segment.starts_with(['.', '-']) {
            return Err(invalid("a segment starts with `.` or `-`"));
        }
        if !segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(invalid(
                "it holds characters other than ASCII letters, digits, `.`, `_`, `-` and `/`",
            ));
        }
    }
    Ok(value.to_owned())
}

/// Checks a tag name by git's rules for ref names (`git check-ref-format`), applied to the
/// part after `refs/tags/`, and bounds it to [`MAX_TAG_BYTES`]: no control characters,
/// space, `~ ^ : ? * [ \`, `..` or `@{`; not `@`; no empty component, none starting with `.`
/// or ending with `.lock`; not starting with `-` (an option to a command line) nor ending
/// with `.` or `/`.
fn tag(value: &str) -> Result<String, String> {
    let invalid = |why: &str| format!("`{}` is not a tag name: {why}", shown(value.as_bytes()));
    if value.is_empty() {
        return Err(invalid("it is empty"));
    }
    if value.len() > MAX_TAG_BYTES {
        return Err(invalid("it is longer than 255 bytes"));
    }
    if value
        .chars()
        .any(|c| c.is_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\'))
    {
        return Err(invalid(
            "it holds a control character, a space or one of `~ ^ : ? * [ \\`",
        ));
    }
    if value.contains("..") || value.contains("@{") || value == "@" {
        return Err(invalid("it holds `..` or `@{`, or is `@`"));
    }
    if value.starts_with('-') || value.ends_with(['.', '/']) {
        return Err(invalid("it starts with `-` or ends with `.` or `/`"));
    }
    for component in value.split('/') {
        if component.is_empty() || component.starts_with('.') || component.ends_with(".lock") {
            return Err(invalid(
                "a `/`-separated part is empty, starts with `.` or ends with `.lock`",
            ));
        }
    }
    Ok(value.to_owned())
}

/// True for a git object id of only zeros: the `before` of a created ref or the `after` of
/// a deleted one (40 digits for SHA-1 repositories, 64 for SHA-256 ones).
pub(super) fn is_zero_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b == b'0')
}

/// A `create` event (GitHub's and Forgejo's share its shape): `ref_type: tag` triggers, with
/// `ref` the tag's short name; a created branch does not.
pub(super) fn tag_created(payload: &Payload) -> Result<super::Event, WebhookError> {
    match payload.str("ref_type")? {
        "tag" => Ok(super::Event::Tag {
            repository: payload.repository("repository.full_name", Segments::Two)?,
            tag: payload.tag("ref")?,
        }),
        "branch" => Ok(super::Event::ignored("create", "a branch was created")),
        _ => Err(WebhookError::FieldInvalid {
            field: "ref_type",
            reason: "is neither `tag` nor `branch`".to_owned(),
        }),
    }
}
