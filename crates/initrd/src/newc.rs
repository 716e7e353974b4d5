//! The newc ("SVR4 portable ASCII") cpio header, as the kernel reads and as we write it.
//!
//! A header is 110 ASCII bytes: the magic `070701` (or `070702`, newc with a data checksum)
//! followed by 13 fields of 8 hex digits. The NUL-terminated name follows; header plus name
//! is padded to a multiple of 4, and so is the data. The kernel parses each field with
//! `simple_strntoul` semantics (stop at the first non-hex digit, no error), and we do too,
//! so that our listing matches what the kernel creates.

/// Length of a newc header.
pub const HEADER_LEN: usize = 110;
/// newc magic, the one we always write.
pub const MAGIC_NEWC: &[u8; 6] = b"070701";
/// newc with a data checksum; only newer kernels accept it.
pub const MAGIC_CRC: &[u8; 6] = b"070702";
/// Old portable ASCII (odc); the kernel rejects it ("incorrect cpio method used").
pub const MAGIC_ODC: &[u8; 6] = b"070707";
/// Name of the entry that ends an archive and resets the kernel's hard-link table.
pub const TRAILER: &str = "TRAILER!!!";
/// The kernel's PATH_MAX: longer names (and longer symlink targets) are skipped.
pub const PATH_MAX: u64 = 4096;

/// File type bits of `mode`.
pub const S_IFMT: u32 = 0o170000;
pub const S_IFSOCK: u32 = 0o140000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFBLK: u32 = 0o060000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFIFO: u32 = 0o010000;

/// The 13 numeric fields of a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    pub ino: u32,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub mtime: u32,
    pub filesize: u32,
    pub devmajor: u32,
    pub devminor: u32,
    pub rdevmajor: u32,
    pub rdevminor: u32,
    pub namesize: u32,
    pub check: u32,
}

/// Which magic a header carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Magic {
    Newc,
    Crc,
}

/// Why the kernel refuses a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderError {
    /// `070707`: "incorrect cpio method used: use -H newc option".
    Odc,
    /// Anything else: "no cpio magic".
    NoMagic,
}

/// Parses one 8-digit field as the kernel does: hex digits up to the first other byte.
fn field(b: &[u8]) -> u32 {
    let mut v: u32 = 0;
    for &c in b {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => break,
        };
        v = (v << 4) | u32::from(d);
    }
    v
}

/// Parses a 110-byte header with the kernel's rules.
pub fn parse_header(b: &[u8; HEADER_LEN]) -> Result<(Magic, Header), HeaderError> {
    let magic = match &b[..6] {
        m if m == MAGIC_NEWC => Magic::Newc,
        m if m == MAGIC_CRC => Magic::Crc,
        m if m == MAGIC_ODC => return Err(HeaderError::Odc),
        _ => return Err(HeaderError::NoMagic),
    };
    let f = |i: usize| field(&b[6 + 8 * i..14 + 8 * i]);
    Ok((
        magic,
        Header {
            ino: f(0),
            mode: f(1),
            uid: f(2),
            gid: f(3),
            nlink: f(4),
            mtime: f(5),
            filesize: f(6),
            devmajor: f(7),
            devminor: f(8),
            rdevmajor: f(9),
            rdevminor: f(10),
            namesize: f(11),
            check: f(12),
        },
    ))
}

/// Name bytes (with NUL and padding) that follow a header so that header + name is 4-aligned.
/// This is the kernel's `N_ALIGN`.
pub fn name_padded_len(namesize: u64) -> u64 {
    ((namesize + 1) & !3) + 2
}

/// Rounds `n` up to a multiple of 4.
pub fn align4(n: u64) -> u64 {
    (n + 3) & !3
}

/// Appends one complete entry (header, name, padding, data, padding) to `out`.
/// The caller guarantees `name` has no NUL and `data.len()` fits in 32 bits.
pub fn write_entry(out: &mut Vec<u8>, h: &Header, name: &str, data: &[u8]) {
    let start = out.len();
    debug_assert!(start.is_multiple_of(4), "newc entries start 4-aligned");
    let namesize = name.len() + 1;
    let filesize = data.len();
    let fields = [
        h.ino,
        h.mode,
        h.uid,
        h.gid,
        h.nlink,
        h.mtime,
        filesize as u32,
        h.devmajor,
        h.devminor,
        h.rdevmajor,
        h.rdevminor,
        namesize as u32,
        0,
    ];
    out.extend_from_slice(MAGIC_NEWC);
    for v in fields {
        out.extend_from_slice(format!("{v:08X}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out, start);
    out.extend_from_slice(data);
    pad4(out, start);
}

/// Appends the `TRAILER!!!` entry.
pub fn write_trailer(out: &mut Vec<u8>) {
    let h = Header {
        nlink: 1,
        ..Header::default()
    };
    write_entry(out, &h, TRAILER, &[]);
}

fn pad4(out: &mut Vec<u8>, start: usize) {
    while !(out.len() - start).is_multiple_of(4) {
        out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_padding_matches_kernel_n_align() {
        for namesize in 1..64u64 {
            assert_eq!((HEADER_LEN as u64 + name_padded_len(namesize)) % 4, 0);
            assert!(name_padded_len(namesize) >= namesize);
            assert!(name_padded_len(namesize) < namesize + 4);
        }
    }

    #[test]
    fn fields_stop_at_first_non_hex_digit_like_simple_strntoul() {
        assert_eq!(field(b"0000001g"), 1);
        assert_eq!(field(b"zzzzzzzz"), 0);
        assert_eq!(field(b"FFFFFFFF"), u32::MAX);
    }

    #[test]
    fn written_entry_parses_back() {
        let mut out = Vec::new();
        let h = Header {
            ino: 7,
            mode: S_IFREG | 0o644,
            nlink: 1,
            mtime: 5,
            ..Header::default()
        };
        write_entry(&mut out, &h, "etc/x", b"hello");
        assert_eq!(out.len() % 4, 0);
        let hb: &[u8; HEADER_LEN] = out[..HEADER_LEN].try_into().unwrap();
        let (m, p) = parse_header(hb).unwrap();
        assert_eq!(m, Magic::Newc);
        assert_eq!(p.filesize, 5);
        assert_eq!(p.namesize, 6);
        assert_eq!(p.mode, S_IFREG | 0o644);
    }

    #[test]
    fn odc_and_garbage_are_refused() {
        let mut b = [b'0'; HEADER_LEN];
        b[..6].copy_from_slice(MAGIC_ODC);
        assert_eq!(parse_header(&b), Err(HeaderError::Odc));
        b[..6].copy_from_slice(b"hello!");
        assert_eq!(parse_header(&b), Err(HeaderError::NoMagic));
    }
}
