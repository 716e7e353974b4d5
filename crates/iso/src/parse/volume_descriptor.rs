//! Volume descriptors (ECMA-119 section 8): the 2048-byte sectors starting at sector 16 that
//! say where the directory trees and path tables are and how big the volume is.
//!
//! [`parse`] decodes one descriptor sector; it never reads outside the slice it is given and
//! reports the first inconsistent field by name.

use super::{both_endian_u16, both_endian_u32};

/// Bytes per logical sector; the only block size repack accepts.
pub const SECTOR_SIZE: u64 = 2048;
/// The volume descriptor set starts at this sector (after the 32 KiB system area).
pub const FIRST_DESCRIPTOR_SECTOR: u64 = 16;
/// At most this many descriptors are read before a terminator must have appeared.
/// Real images have 2-5 (primary, Joliet, El Torito, ISO 9660:1999, terminator).
pub const MAX_DESCRIPTORS: u64 = 64;
/// Every descriptor carries this standard identifier at bytes 1..6.
pub const STANDARD_IDENTIFIER: &[u8; 5] = b"CD001";

const TYPE_BOOT_RECORD: u8 = 0;
const TYPE_PRIMARY: u8 = 1;
const TYPE_SUPPLEMENTARY: u8 = 2;
const TYPE_TERMINATOR: u8 = 255;

/// Joliet escape sequences (levels 1, 2, 3) at bytes 88..120 of a supplementary descriptor.
const JOLIET_ESCAPES: [&[u8; 3]; 3] = [b"%/@", b"%/C", b"%/E"];

/// One decoded volume descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Descriptor {
    /// The primary volume descriptor (type 1).
    Primary(Volume),
    /// A supplementary (type 2) descriptor; `joliet` when its escape sequences say so.
    Supplementary {
        /// Sizes and locations declared by the descriptor.
        volume: Volume,
        /// Whether the escape sequences name a Joliet level (UCS-2 names).
        joliet: bool,
    },
    /// An El Torito boot record (type 0): no directory tree, nothing to check.
    BootRecord,
    /// The set terminator (type 255).
    Terminator,
    /// Any other type (partition descriptors, vendor types): skipped.
    Other(u8),
}

/// What a primary or supplementary descriptor declares about the volume.
///
/// These values are untrusted: [`crate::Iso`] checks each against the image length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Volume {
    /// Logical block size in bytes (bytes 128..132).
    pub block_size: u16,
    /// Volume size in logical blocks (bytes 80..88).
    pub volume_blocks: u32,
    /// Path table length in bytes (bytes 132..140).
    pub path_table_size: u32,
    /// Sector of the little-endian path table (bytes 140..144).
    pub path_table_l: u32,
    /// Sector of the big-endian path table (bytes 148..152).
    pub path_table_m: u32,
    /// The root directory's extent (from the 34-byte record at bytes 156..190).
    pub root: RootRecord,
}

/// The root directory record embedded in a descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RootRecord {
    /// First sector of the root directory (extent + extended attribute length).
    pub lba: u32,
    /// Length of the root directory in bytes.
    pub len: u32,
}

/// Why a descriptor sector was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DescriptorError {
    /// Occurs when the sector is not 2048 bytes.
    #[error("descriptor sector is {0} bytes, expected 2048")]
    ShortSector(usize),
    /// Occurs when bytes 1..6 are not `CD001` (not an ISO 9660 image, or a corrupt one).
    #[error("no `CD001` standard identifier")]
    NotIso9660,
    /// Occurs when a numeric field is out of range or its two byte orders disagree.
    #[error("field `{0}` is inconsistent")]
    BadField(&'static str),
}

/// Decodes one volume descriptor sector.
pub fn parse(sector: &[u8]) -> Result<Descriptor, DescriptorError> {
    if sector.len() != SECTOR_SIZE as usize {
        return Err(DescriptorError::ShortSector(sector.len()));
    }
    if &sector[1..6] != STANDARD_IDENTIFIER {
        return Err(DescriptorError::NotIso9660);
    }
    match sector[0] {
        TYPE_PRIMARY => Ok(Descriptor::Primary(volume(sector)?)),
        TYPE_SUPPLEMENTARY => {
            let escapes = &sector[88..120];
            let joliet = JOLIET_ESCAPES
                .iter()
                .any(|esc| escapes.windows(3).any(|w| w == *esc));
            Ok(Descriptor::Supplementary {
                volume: volume(sector)?,
                joliet,
            })
        }
        TYPE_BOOT_RECORD => Ok(Descriptor::BootRecord),
        TYPE_TERMINATOR => Ok(Descriptor::Terminator),
        other => Ok(Descriptor::Other(other)),
    }
}

fn volume(sector: &[u8]) -> Result<Volume, DescriptorError> {
    use DescriptorError::BadField;
    let volume_blocks = both_endian_u32(sector, 80).ok_or(BadField("volume space size"))?;
    let block_size = both_endian_u16(sector, 128).ok_or(BadField("logical block size"))?;
    let path_table_size = both_endian_u32(sector, 132).ok_or(BadField("path table size"))?;
    let path_table_l = u32::from_le_bytes(sector[140..144].try_into().expect("4 bytes"));
    let path_table_m = u32::from_be_bytes(sector[148..152].try_into().expect("4 bytes"));
    let record = &sector[156..190];
    if record[0] < 34 {
        return Err(BadField("root directory record length"));
    }
    let extent = both_endian_u32(record, 2).ok_or(BadField("root directory extent"))?;
    let len = both_endian_u32(record, 10).ok_or(BadField("root directory length"))?;
    let lba = extent
        .checked_add(u32::from(record[1]))
        .ok_or(BadField("root directory extent"))?;
    Ok(Volume {
        block_size,
        volume_blocks,
        path_table_size,
        path_table_l,
        path_table_m,
        root: RootRecord { lba, len },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn primary() -> Vec<u8> {
        let mut s = vec![0u8; 2048];
        s[0] = 1;
        s[1..6].copy_from_slice(b"CD001");
        s[6] = 1;
        put32(&mut s, 80, 100);
        s[128..130].copy_from_slice(&2048u16.to_le_bytes());
        s[130..132].copy_from_slice(&2048u16.to_be_bytes());
        put32(&mut s, 132, 10);
        s[140..144].copy_from_slice(&19u32.to_le_bytes());
        s[148..152].copy_from_slice(&21u32.to_be_bytes());
        s[156] = 34;
        put32(&mut s, 158, 23);
        put32(&mut s, 166, 2048);
        s
    }

    fn put32(s: &mut [u8], at: usize, v: u32) {
        s[at..at + 4].copy_from_slice(&v.to_le_bytes());
        s[at + 4..at + 8].copy_from_slice(&v.to_be_bytes());
    }

    #[test]
    fn parses_primary() {
        let Descriptor::Primary(v) = parse(&primary()).unwrap() else {
            panic!("not primary")
        };
        assert_eq!(v.block_size, 2048);
        assert_eq!(v.volume_blocks, 100);
        assert_eq!(v.path_table_l, 19);
        assert_eq!(v.path_table_m, 21);
        assert_eq!(v.root, RootRecord { lba: 23, len: 2048 });
    }

    #[test]
    fn refuses_disagreeing_byte_orders() {
        let mut s = primary();
        s[84] = 0xff;
        assert_eq!(
            parse(&s),
            Err(DescriptorError::BadField("volume space size"))
        );
    }

    #[test]
    fn refuses_non_iso_and_short_sectors() {
        assert_eq!(parse(&[0u8; 2048]), Err(DescriptorError::NotIso9660));
        assert_eq!(parse(&[0u8; 10]), Err(DescriptorError::ShortSector(10)));
    }

    #[test]
    fn detects_joliet() {
        let mut s = primary();
        s[0] = 2;
        s[88..91].copy_from_slice(b"%/E");
        assert!(matches!(
            parse(&s),
            Ok(Descriptor::Supplementary { joliet: true, .. })
        ));
    }
}
