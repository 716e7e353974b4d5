//! System Use Sharing Protocol entries (SUSP 1.12, Rock Ridge RRIP 1.12) that repack reads
//! itself from a directory record's System Use area: `SP` (how many bytes every record's
//! area starts with before its first entry), `CE` (where the area continues) and `ZF`/`Z2`
//! (the file's stored bytes are zisofs-compressed, see [`super::zisofs`]).
//!
//! hadris-iso decodes names, modes, links and relocations but drops `ZF`; a file whose `ZF`
//! is missed would be handed out as its compressed bytes. [`scan`] walks one area (a
//! record's own, or one continuation area); it never reads outside the slice it is given,
//! stops where the Linux kernel stops (an `ST` entry, an entry shorter than 4 bytes or
//! running past the area), and refuses a `ZF` whose fields are inconsistent or repeated.

use super::both_endian_u32;

/// Every SUSP entry starts with a 2-byte signature, a length byte and a version byte.
pub const ENTRY_HEADER_LEN: usize = 4;
/// Length of an `SP` entry (signature, length, version, check bytes, bytes skipped).
const SP_LEN: usize = 7;
/// The check bytes that identify an `SP` entry.
const SP_CHECK: [u8; 2] = [0xBE, 0xEF];
/// Length of a `CE` entry: header + three both-endian `u32`s (block, offset, length).
const CE_LEN: usize = 28;
/// Length of a `ZF`/`Z2` entry: header, algorithm (2), header size (1), log2 block size
/// (1), uncompressed size (8).
const ZF_LEN: usize = 16;
/// The zisofs version 1 algorithm (`pz`): uncompressed size as a both-endian `u32`.
pub const ZISOFS_V1: [u8; 2] = *b"pz";
/// The zisofs version 2 algorithm (`PZ`, xorriso 1.5.4+): uncompressed size as a
/// little-endian `u64`. Recognised so such files are never read as plain, not decoded.
pub const ZISOFS_V2: [u8; 2] = *b"PZ";

/// What [`scan`] found in one System Use area.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scan {
    /// The area's `ZF` (or `Z2`) entry.
    pub zf: Option<ZfEntry>,
    /// The area's `CE` entry: the next area to scan.
    pub continuation: Option<Continuation>,
}

/// A `CE` entry: where a record's System Use area continues. Untrusted: the caller checks
/// it against the image and the block it must lie in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Continuation {
    /// Logical block of the continuation area.
    pub lba: u32,
    /// Byte offset of the area inside that block.
    pub offset: u32,
    /// Length of the area in bytes.
    pub len: u32,
}

/// A Rock Ridge `ZF` entry (or xorriso's `Z2`, the same layout): the file's stored bytes
/// are compressed and its content is what they decode to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ZfEntry {
    /// `ZF`, or `Z2` (xorriso's zisofs2 entry that unaware kernels ignore).
    pub signature: [u8; 2],
    /// Compression algorithm: [`ZISOFS_V1`] (`pz`), [`ZISOFS_V2`] (`PZ`) or unknown.
    pub algorithm: [u8; 2],
    /// Size of the file's own zisofs header, in 4-byte units (4 for zisofs version 1).
    pub header_size: u8,
    /// log2 of the uncompressed block size (15, 16 or 17 for zisofs version 1).
    pub block_size_log2: u8,
    /// The file's uncompressed size, when the algorithm says how to read it.
    pub uncompressed_size: Option<u64>,
}

impl ZfEntry {
    /// The algorithm as text, for messages (`pz`, `PZ`, or the bytes escaped).
    pub fn algorithm_name(&self) -> String {
        self.algorithm.escape_ascii().to_string()
    }
}

/// Why a System Use area was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RockRidgeError {
    /// Occurs when a `ZF`/`Z2` entry is not 16 bytes long or its uncompressed size's two
    /// byte orders disagree.
    #[error("malformed {signature} entry: {reason}")]
    BadZf {
        /// `ZF` or `Z2`.
        signature: String,
        /// Which field is wrong.
        reason: &'static str,
    },
    /// Occurs when one record carries two compression entries (the kernel would use the
    /// last, a reader stopping early the first).
    #[error("more than one ZF/Z2 entry")]
    DuplicateZf,
    /// Occurs when a `CE` entry is malformed or its area leaves its logical block (the
    /// kernel refuses such areas too), or continuation areas chain too long.
    #[error("bad continuation area: {0}")]
    BadContinuation(&'static str),
}

/// The bytes-skipped count of an `SP` entry at the start of `area` (the System Use area of
/// the root directory's `.` record), or `None` when there is no valid `SP` entry.
pub fn sp_skip(area: &[u8]) -> Option<u8> {
    let entry = area.get(..SP_LEN)?;
    (entry[..2] == *b"SP" && usize::from(entry[2]) >= SP_LEN && entry[4..6] == SP_CHECK)
        .then_some(entry[6])
}

/// Scans one System Use area, starting `skip` bytes in (the `SP` count for a record's own
/// area, 0 for a continuation area).
pub fn scan(area: &[u8], skip: usize) -> Result<Scan, RockRidgeError> {
    let mut found = Scan::default();
    let mut at = skip;
    while let Some(header) = area.get(at..at.saturating_add(ENTRY_HEADER_LEN)) {
        let len = usize::from(header[2]);
        if len < ENTRY_HEADER_LEN {
            break;
        }
        let Some(entry) = area.get(at..at + len) else {
            break;
        };
        match [entry[0], entry[1]] {
            [b'S', b'T'] => break,
            [b'C', b'E'] => {
                if found.continuation.is_some() {
                    return Err(RockRidgeError::BadContinuation(
                        "two CE entries in one area",
                    ));
                }
                found.continuation = Some(continuation(entry)?);
            }
            signature @ ([b'Z', b'F'] | [b'Z', b'2']) => {
                if found.zf.is_some() {
                    return Err(RockRidgeError::DuplicateZf);
                }
                found.zf = Some(zf(signature, entry)?);
            }
            _ => {}
        }
        at += len;
    }
    Ok(found)
}

fn continuation(entry: &[u8]) -> Result<Continuation, RockRidgeError> {
    let field = |at, name| both_endian_u32(entry, at).ok_or(RockRidgeError::BadContinuation(name));
    if entry.len() < CE_LEN {
        return Err(RockRidgeError::BadContinuation(
            "CE entry shorter than 28 bytes",
        ));
    }
    Ok(Continuation {
        lba: field(4, "CE block location (byte orders disagree)")?,
        offset: field(12, "CE offset (byte orders disagree)")?,
        len: field(20, "CE length (byte orders disagree)")?,
    })
}

fn zf(signature: [u8; 2], entry: &[u8]) -> Result<ZfEntry, RockRidgeError> {
    let bad = |reason| RockRidgeError::BadZf {
        signature: signature.escape_ascii().to_string(),
        reason,
    };
    if entry.len() != ZF_LEN {
        return Err(bad("length is not 16 bytes"));
    }
    let algorithm = [entry[4], entry[5]];
    let uncompressed_size = match algorithm {
        ZISOFS_V1 => {
            Some(u64::from(both_endian_u32(entry, 8).ok_or_else(|| {
                bad("uncompressed size (byte orders disagree)")
            })?))
        }
        ZISOFS_V2 => Some(u64::from_le_bytes(
            entry[8..16].try_into().expect("8 bytes"),
        )),
        _ => None,
    };
    Ok(ZfEntry {
        signature,
        algorithm,
        header_size: entry[6],
        block_size_log2: entry[7],
        uncompressed_size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zf_v1(size: u32) -> Vec<u8> {
        let mut e = b"ZF\x10\x01pz\x04\x0f".to_vec();
        e.extend_from_slice(&size.to_le_bytes());
        e.extend_from_slice(&size.to_be_bytes());
        e
    }

    fn ce(lba: u32, offset: u32, len: u32) -> Vec<u8> {
        let mut e = b"CE\x1c\x01".to_vec();
        for v in [lba, offset, len] {
            e.extend_from_slice(&v.to_le_bytes());
            e.extend_from_slice(&v.to_be_bytes());
        }
        e
    }

    #[test]
    fn finds_zf_and_ce_among_other_entries() {
        let mut area = b"PX\x05\x01\x00".to_vec();
        area.extend(zf_v1(200_000));
        area.extend(ce(40, 100, 60));
        let scan = scan(&area, 0).unwrap();
        assert_eq!(
            scan.zf,
            Some(ZfEntry {
                signature: *b"ZF",
                algorithm: ZISOFS_V1,
                header_size: 4,
                block_size_log2: 15,
                uncompressed_size: Some(200_000),
            })
        );
        assert_eq!(
            scan.continuation,
            Some(Continuation {
                lba: 40,
                offset: 100,
                len: 60
            })
        );
    }

    #[test]
    fn honours_skip_and_stops_where_the_kernel_does() {
        let mut area = vec![0xAA, 0xAA];
        area.extend(zf_v1(1));
        assert_eq!(
            scan(&area, 2).unwrap().zf.unwrap().uncompressed_size,
            Some(1)
        );
        // ST ends the area; a short or overlong entry ends it too.
        for stop in [&b"ST\x04\x01"[..], b"XX\x02\x01", b"XX\xff\x01"] {
            let mut area = stop.to_vec();
            area.extend(zf_v1(1));
            assert_eq!(scan(&area, 0).unwrap().zf, None, "{stop:?}");
        }
    }

    #[test]
    fn zisofs2_size_is_little_endian_u64_and_unknown_algorithms_have_none() {
        let mut v2 = b"Z2\x10\x02PZ\x06\x11".to_vec();
        v2.extend_from_slice(&(5u64 << 32).to_le_bytes());
        let zf = scan(&v2, 0).unwrap().zf.unwrap();
        assert_eq!(
            (zf.signature, zf.uncompressed_size),
            (*b"Z2", Some(5 << 32))
        );
        let mut other = zf_v1(7);
        other[4..6].copy_from_slice(b"xx");
        assert_eq!(scan(&other, 0).unwrap().zf.unwrap().uncompressed_size, None);
    }

    #[test]
    fn refuses_inconsistent_or_repeated_zf() {
        let mut disagree = zf_v1(7);
        disagree[15] = 8;
        assert!(matches!(
            scan(&disagree, 0),
            Err(RockRidgeError::BadZf { reason, .. }) if reason.contains("byte orders")
        ));
        let mut long = zf_v1(7);
        long[2] = 17;
        long.push(0);
        assert!(matches!(scan(&long, 0), Err(RockRidgeError::BadZf { .. })));
        let twice = [zf_v1(7), zf_v1(7)].concat();
        assert_eq!(scan(&twice, 0), Err(RockRidgeError::DuplicateZf));
        let mut bad_ce = ce(1, 2, 3);
        bad_ce[8] = 9;
        assert!(matches!(
            scan(&bad_ce, 0),
            Err(RockRidgeError::BadContinuation(_))
        ));
    }

    #[test]
    fn sp_skip_needs_the_check_bytes() {
        assert_eq!(sp_skip(b"SP\x07\x01\xbe\xef\x03"), Some(3));
        assert_eq!(sp_skip(b"SP\x07\x01\xbe\xee\x03"), None);
        assert_eq!(sp_skip(b"SP\x07"), None);
    }
}
