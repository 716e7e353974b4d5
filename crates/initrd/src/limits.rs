//! Caps that keep hostile images from exhausting memory or time.
//!
//! Every decoder counts what it produces against these limits and stops with
//! [`crate::Error::DecompressionLimit`] as soon as one is crossed.

/// Resource caps applied while opening and reading an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum decompressed size of one compressed member.
    pub max_member_output: u64,
    /// Maximum decompressed size of all members together (one pass).
    pub max_total_output: u64,
    /// Maximum number of cpio entries in the whole image.
    pub max_entries: usize,
    /// Maximum size of a file returned by [`crate::Initrd::read_file`].
    pub max_read_file: u64,
    /// Memory limit handed to the xz/lzma decoder (dictionary and buffers).
    pub max_decoder_memory: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_member_output: 4 << 30,
            max_total_output: 8 << 30,
            max_entries: 2_000_000,
            max_read_file: 256 << 20,
            max_decoder_memory: 512 << 20,
        }
    }
}

impl Limits {
    /// Small caps for fuzzing and tests: 64 MiB per member, 128 MiB in all.
    pub fn small() -> Self {
        Limits {
            max_member_output: 64 << 20,
            max_total_output: 128 << 20,
            max_entries: 100_000,
            max_read_file: 16 << 20,
            max_decoder_memory: 128 << 20,
        }
    }
}
