//! Pure, bounds-checked parsers over `&[u8]` for the on-disk structures repack checks itself
//! before handing an image to hadris-iso. One file per structure.
//!
//! Only the volume descriptors are parsed here: they carry the sizes and locations
//! (path table, root directories, volume size) that hadris-iso trusts when it opens an
//! image. Directory records and Rock Ridge SUSP entries are decoded by hadris-iso and
//! checked afterwards by [`crate::Iso`].

pub mod volume_descriptor;

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
