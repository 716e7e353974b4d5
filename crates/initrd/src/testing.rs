//! Helpers for unit tests.

/// Names of the entries of one uncompressed newc archive (trailer included).
pub(crate) fn names(bytes: &[u8]) -> Vec<String> {
    let i = crate::Initrd::from_bytes(bytes.to_vec(), crate::Limits::small()).expect("open");
    i.records()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.raw.name).into_owned())
        .collect()
}
