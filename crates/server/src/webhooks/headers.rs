//! Reading the request headers of a delivery: single-valued lookups, the delivery id, the
//! event name and the content type. Header names are matched case-insensitively (`http`
//! stores them lowercased).

use http::{HeaderMap, HeaderValue};

use super::WebhookError;
use super::error::shown;

/// The longest delivery id accepted. Forges send UUIDs (36 characters); the id becomes a
/// deduplication key and a log field, so it is bounded.
pub const MAX_DELIVERY_ID_BYTES: usize = 128;

/// The header appeared more than once.
pub(super) struct Repeated;

/// The one value of `name`, `None` when absent.
pub(super) fn one<'a>(
    headers: &'a HeaderMap,
    name: &'static str,
) -> Result<Option<&'a HeaderValue>, Repeated> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(Repeated);
    }
    Ok(first)
}

/// The first of `names` that is present (a repeated header is an error, not skipped).
fn first_of<'a>(
    headers: &'a HeaderMap,
    names: &[&'static str],
) -> Result<Option<(&'static str, &'a HeaderValue)>, WebhookError> {
    for &name in names {
        match one(headers, name) {
            Ok(Some(value)) => return Ok(Some((name, value))),
            Ok(None) => {}
            Err(Repeated) => return Err(WebhookError::HeaderRepeated { header: name }),
        }
    }
    Ok(None)
}

/// The delivery id from the first present of `names`: 1 to [`MAX_DELIVERY_ID_BYTES`]
/// printable ASCII characters without spaces.
pub(super) fn delivery_id(
    headers: &HeaderMap,
    names: &[&'static str],
    expected: &'static str,
) -> Result<String, WebhookError> {
    let Some((header, value)) = first_of(headers, names)? else {
        return Err(WebhookError::DeliveryIdMissing { expected });
    };
    let bytes = value.as_bytes();
    let reason = if bytes.is_empty() {
        Some("it is empty")
    } else if bytes.len() > MAX_DELIVERY_ID_BYTES {
        Some("it is longer than 128 characters")
    } else if !bytes.iter().all(|b| (0x21..0x7f).contains(b)) {
        Some("it holds characters other than printable ASCII")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(WebhookError::DeliveryIdInvalid { header, reason }),
        // Only printable ASCII is left, so this is lossless.
        None => Ok(String::from_utf8_lossy(bytes).into_owned()),
    }
}

/// The event name from the first present of `names`, checked against `known`. The returned
/// name is the entry of `known`, so it is bounded and printable.
pub(super) fn event_name(
    headers: &HeaderMap,
    names: &[&'static str],
    expected: &'static str,
    known: &[&'static str],
) -> Result<&'static str, WebhookError> {
    let Some((header, value)) = first_of(headers, names)? else {
        return Err(WebhookError::EventMissing { expected });
    };
    let bytes = value.as_bytes();
    if bytes.is_empty() {
        return Err(WebhookError::EventMissing { expected });
    }
    known
        .iter()
        .copied()
        .find(|name| name.as_bytes() == bytes)
        .ok_or_else(|| WebhookError::UnknownEvent {
            header,
            event: shown(bytes),
        })
}

/// Refuses a body declared as anything but JSON. An absent `Content-Type` is accepted: every
/// forge sends one, and the body is parsed as JSON either way.
pub(super) fn require_json(headers: &HeaderMap) -> Result<(), WebhookError> {
    let value = match one(headers, "content-type") {
        Ok(Some(value)) => value,
        Ok(None) => return Ok(()),
        Err(Repeated) => {
            return Err(WebhookError::HeaderRepeated {
                header: "Content-Type",
            });
        }
    };
    let bytes = value.as_bytes();
    let media_type = bytes.split(|&b| b == b';').next().unwrap_or_default();
    if media_type
        .trim_ascii()
        .eq_ignore_ascii_case(b"application/json")
    {
        Ok(())
    } else {
        Err(WebhookError::UnsupportedContentType {
            content_type: shown(bytes),
        })
    }
}
