//! Pure, bounds-checked parsers over `&[u8]` for the on-disk structures repack reads itself
//! rather than trusting hadris-iso with them. One file per structure.
//!
//! - [`volume_descriptor`]: the sizes and locations (path table, root directories, volume
//!   size) that hadris-iso trusts when it opens an image.
//! - [`rock_ridge`]: the SUSP entries hadris-iso does not keep (`SP`, `CE`, and `ZF`, which
//!   marks a zisofs-compressed file).
//! - [`zisofs`]: a compressed file's header and block pointer table.
//!
//! Directory records and the other Rock Ridge entries are decoded by hadris-iso and checked
//! afterwards by [`crate::Iso`].

pub mod rock_ridge;
pub mod volume_descriptor;
pub mod zisofs;

/// Reads a both-endian `u32` (ECMA-119 7.3.3: little-endian then big-endian copy).
/// Returns `None` when the slice is short or the two copies disagree.
pub(crate) fn both_endian_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let field = bytes.get(at..at.checked_add(8)?)?;
    let le = u32::from_le_bytes(field[..4].try_into().ok()?);
    let be = u32::from_be_bytes(field[4..].try_into().ok()?);
    (le == be).then_some(le)
}

/// Reads a both-endian `u16` (ECMA-119 7.2.3).
pub(crate) fn both_endian_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let field = bytes.get(at..at.checked_add(4)?)?;
    let le = u16::from_le_bytes(field[..2].try_into().ok()?);
    let be = u16::from_be_bytes(field[2..].try_into().ok()?);
    (le == be).then_some(le)
}
