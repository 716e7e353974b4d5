//! Single-member decoders with exact input boundaries.
//!
//! Each decoder reads one member starting at an offset, hands its output to a callback in
//! chunks, and reports how many input bytes the member occupied — the same count the
//! kernel's decompressor returns, so the next member starts where the kernel looks for it.
//! gzip is framed as the kernel frames it (10-byte header, optional name, raw deflate, 8-byte
//! trailer that the kernel skips without checking); zstd stops at the end of one frame; xz at
//! the end of one stream; legacy lz4 at the end of the input or at a zero chunk size.
//! Output is counted against [`crate::Limits`] before it is handed on.

use crate::compression::{Compression, LZ4_LEGACY_CHUNK, LZ4_LEGACY_MAGIC, XZ_MAGIC};
use crate::error::Error;
use crate::source::{CHUNK, Cursor, Source};

/// What the decoder tells the caller on success.
#[derive(Debug, Clone)]
pub(crate) struct Decoded {
    /// Input bytes the member occupies.
    pub consumed: u64,
    /// Output bytes the member produced.
    pub output: u64,
    /// Extra, non-fatal observation (e.g. a gzip trailer that does not match).
    pub remark: Remark,
}

type Remark = Option<(&'static str, String)>;

/// Why decoding stopped early.
#[derive(Debug)]
pub(crate) enum DecodeStop {
    /// The kernel would fail here: `rule` and a human reason, at absolute `offset`.
    Fault {
        offset: u64,
        rule: &'static str,
        message: String,
    },
    /// The output callback asked to stop.
    Stopped,
    /// repack cannot go on (I/O, limits).
    Hard(Error),
}

impl From<Error> for DecodeStop {
    fn from(e: Error) -> Self {
        DecodeStop::Hard(e)
    }
}

/// Output accounting for one pass over an image.
#[derive(Debug)]
pub(crate) struct Budget {
    pub member_limit: u64,
    pub total_limit: u64,
    pub total: u64,
    pub decoder_memory: u64,
}

/// The consumer of decoded bytes: returns false to stop.
pub(crate) type Out<'a> = dyn FnMut(&[u8]) -> bool + 'a;

fn fault(offset: u64, rule: &'static str, message: impl Into<String>) -> DecodeStop {
    DecodeStop::Fault {
        offset,
        rule,
        message: message.into(),
    }
}

struct Emitter<'a, 'b> {
    budget: &'a mut Budget,
    member: u64,
    segment: usize,
    offset: u64,
    codec: &'static str,
    out: &'a mut Out<'b>,
}

impl Emitter<'_, '_> {
    fn emit(&mut self, data: &[u8]) -> Result<(), DecodeStop> {
        if data.is_empty() {
            return Ok(());
        }
        let n = data.len() as u64;
        if self.member + n > self.budget.member_limit {
            return Err(self.limit(self.budget.member_limit, "max_member_output"));
        }
        if self.budget.total + n > self.budget.total_limit {
            return Err(self.limit(self.budget.total_limit, "max_total_output"));
        }
        self.member += n;
        self.budget.total += n;
        if (self.out)(data) {
            Ok(())
        } else {
            Err(DecodeStop::Stopped)
        }
    }

    fn limit(&self, limit: u64, which: &'static str) -> DecodeStop {
        DecodeStop::Hard(Error::DecompressionLimit {
            segment: self.segment,
            offset: self.offset,
            codec: self.codec,
            limit,
            which,
        })
    }
}

/// One step of a streaming decoder: consume some input, produce some output.
trait Step {
    /// Returns (consumed, produced, finished).
    fn step(&mut self, input: &[u8], output: &mut [u8]) -> Result<(usize, usize, bool), String>;
}

struct ZstdStep(zstd::stream::raw::Decoder<'static>);
impl Step for ZstdStep {
    fn step(&mut self, input: &[u8], output: &mut [u8]) -> Result<(usize, usize, bool), String> {
        use zstd::stream::raw::Operation;
        let st = self
            .0
            .run_on_buffers(input, output)
            .map_err(|e| e.to_string())?;
        Ok((st.bytes_read, st.bytes_written, st.remaining == 0))
    }
}

struct DeflateStep(flate2::Decompress, flate2::Crc);
impl Step for DeflateStep {
    fn step(&mut self, input: &[u8], output: &mut [u8]) -> Result<(usize, usize, bool), String> {
        let (i0, o0) = (self.0.total_in(), self.0.total_out());
        let r = self
            .0
            .decompress(input, output, flate2::FlushDecompress::None);
        let c = (self.0.total_in() - i0) as usize;
        let p = (self.0.total_out() - o0) as usize;
        self.1.update(&output[..p]);
        match r {
            Ok(flate2::Status::StreamEnd) => Ok((c, p, true)),
            Ok(_) => Ok((c, p, false)),
            Err(e) => Err(format!("deflate data is corrupt: {e}")),
        }
    }
}

struct LzmaStep(liblzma::stream::Stream);
impl Step for LzmaStep {
    fn step(&mut self, input: &[u8], output: &mut [u8]) -> Result<(usize, usize, bool), String> {
        let (i0, o0) = (self.0.total_in(), self.0.total_out());
        let action = if input.is_empty() {
            liblzma::stream::Action::Finish
        } else {
            liblzma::stream::Action::Run
        };
        let r = self.0.process(input, output, action);
        let c = (self.0.total_in() - i0) as usize;
        let p = (self.0.total_out() - o0) as usize;
        match r {
            Ok(liblzma::stream::Status::StreamEnd) => Ok((c, p, true)),
            Ok(_) => Ok((c, p, false)),
            Err(liblzma::stream::Error::MemLimit) => Err(
                "the stream needs more decoder memory than Limits::max_decoder_memory allows"
                    .into(),
            ),
            Err(e) => Err(format!("{e:?} error in compressed data")),
        }
    }
}

struct Bzip2Step(bzip2::Decompress);
impl Step for Bzip2Step {
    fn step(&mut self, input: &[u8], output: &mut [u8]) -> Result<(usize, usize, bool), String> {
        let (i0, o0) = (self.0.total_in(), self.0.total_out());
        let r = self.0.decompress(input, output);
        let c = (self.0.total_in() - i0) as usize;
        let p = (self.0.total_out() - o0) as usize;
        match r {
            Ok(bzip2::Status::StreamEnd) => Ok((c, p, true)),
            Ok(_) => Ok((c, p, false)),
            Err(e) => Err(format!("bzip2 data is corrupt: {e}")),
        }
    }
}

/// Drives a [`Step`] from `start`; returns the input length of the member.
fn drive(
    src: &Source,
    start: u64,
    step: &mut dyn Step,
    em: &mut Emitter,
) -> Result<u64, DecodeStop> {
    let mut cur = Cursor::new(src, start);
    let mut outbuf = vec![0u8; CHUNK];
    let mut idle = 0;
    loop {
        let pos = cur.pos();
        let input = cur.fill()?;
        let eof = input.is_empty();
        let (c, p, done) = step
            .step(input, &mut outbuf)
            .map_err(|m| fault(pos, "corrupt-member", format!("{} member: {m}", em.codec)))?;
        cur.consume(c);
        em.emit(&outbuf[..p])?;
        if done {
            return Ok(cur.pos() - start);
        }
        if c == 0 && p == 0 {
            idle += 1;
            if eof || idle > 2 {
                return Err(fault(
                    cur.pos(),
                    "corrupt-member",
                    format!("{} member is truncated: the image ends inside it", em.codec),
                ));
            }
        } else {
            idle = 0;
        }
    }
}

/// Decodes the member at `offset`.
pub(crate) fn decode_member(
    src: &Source,
    offset: u64,
    codec: Compression,
    segment: usize,
    budget: &mut Budget,
    out: &mut Out,
) -> Result<Decoded, DecodeStop> {
    let mut em = Emitter {
        member: 0,
        segment,
        offset,
        codec: codec.name(),
        budget,
        out,
    };
    let decoded = match codec {
        Compression::Zstd => {
            let dec =
                zstd::stream::raw::Decoder::new().map_err(|e| Error::Read { offset, source: e })?;
            drive(src, offset, &mut ZstdStep(dec), &mut em).map(|c| (c, None))
        }
        Compression::Gzip => gzip(src, offset, &mut em),
        Compression::Xz => {
            let mut hdr = [0u8; 12];
            let n = src.read_at(offset, &mut hdr)?;
            if n < 12 || hdr[..6] != XZ_MAGIC {
                return Err(fault(
                    offset,
                    "corrupt-member",
                    "xz member: input is not in the XZ format (wrong magic bytes)",
                ));
            }
            let check = hdr[7] & 0x0f;
            if hdr[6] != 0 || hdr[7] & 0xf0 != 0 {
                return Err(fault(
                    offset,
                    "corrupt-member",
                    "xz member: unsupported stream flags",
                ));
            }
            if check > 1 {
                let name = match check {
                    4 => "CRC64",
                    10 => "SHA-256",
                    _ => "an unknown check",
                };
                return Err(fault(
                    offset,
                    "xz-unsupported-check",
                    format!(
                        "xz member uses the {name} integrity check; the kernel's XZ decoder accepts only CRC32 \
                         or none and stops unpacking here (compress with `xz --check=crc32`)"
                    ),
                ));
            }
            let s = liblzma::stream::Stream::new_stream_decoder(em.budget.decoder_memory, 0)
                .map_err(|e| fault(offset, "corrupt-member", format!("xz decoder: {e:?}")))?;
            drive(src, offset, &mut LzmaStep(s), &mut em).map(|c| (c, None))
        }
        Compression::Lzma => {
            let s = liblzma::stream::Stream::new_lzma_decoder(em.budget.decoder_memory)
                .map_err(|e| fault(offset, "corrupt-member", format!("lzma decoder: {e:?}")))?;
            drive(src, offset, &mut LzmaStep(s), &mut em).map(|c| (c, None))
        }
        Compression::Bzip2 => drive(
            src,
            offset,
            &mut Bzip2Step(bzip2::Decompress::new(false)),
            &mut em,
        )
        .map(|c| (c, None)),
        Compression::Lz4Legacy => lz4_legacy(src, offset, &mut em).map(|c| (c, None)),
        Compression::Lzo => Err(fault(
            offset,
            "unsupported-compression",
            "lzo member: repack does not decode lzo, so it cannot find where the member ends or check it",
        )),
    };
    let (consumed, remark) = decoded?;
    Ok(Decoded {
        consumed,
        output: em.member,
        remark,
    })
}

fn gzip(src: &Source, offset: u64, em: &mut Emitter) -> Result<(u64, Remark), DecodeStop> {
    let mut hdr = [0u8; 10];
    let n = src.read_at(offset, &mut hdr)?;
    if n < 10 || hdr[0] != 0x1f || hdr[1] != 0x8b || hdr[2] != 0x08 {
        return Err(fault(
            offset,
            "corrupt-member",
            "gzip member: not a gzip file (the kernel needs magic 1f 8b and method 8)",
        ));
    }
    let flags = hdr[3];
    let mut start = offset + 10;
    if flags & 0x08 != 0 {
        // The kernel skips a NUL-terminated name and nothing else.
        let mut cur = Cursor::new(src, start);
        loop {
            let buf = cur.fill()?;
            if buf.is_empty() {
                return Err(fault(
                    offset,
                    "corrupt-member",
                    "gzip member: header error (unterminated name)",
                ));
            }
            if let Some(i) = buf.iter().position(|&b| b == 0) {
                cur.consume(i + 1);
                break;
            }
            let l = buf.len();
            cur.consume(l);
        }
        start = cur.pos();
    }
    let unsupported = flags & 0x16;
    let mut step = DeflateStep(flate2::Decompress::new(false), flate2::Crc::new());
    let deflate_len = match drive(src, start, &mut step, em) {
        Ok(n) => n,
        Err(DecodeStop::Fault {
            offset: at,
            message,
            ..
        }) if unsupported != 0 => {
            return Err(fault(
                at,
                "gzip-header-flags",
                format!(
                    "gzip member sets header flags 0x{unsupported:02x} (extra field, comment or header CRC), \
                     which the kernel does not skip, so it decodes garbage: {message}"
                ),
            ));
        }
        Err(e) => return Err(e),
    };
    let trailer_at = start + deflate_len;
    let mut trailer = [0u8; 8];
    if src.read_at(trailer_at, &mut trailer)? < 8 {
        return Err(fault(
            trailer_at,
            "corrupt-member",
            "gzip member: the 8-byte trailer is cut off",
        ));
    }
    let crc = u32::from_le_bytes(trailer[..4].try_into().expect("4 bytes"));
    let isize = u32::from_le_bytes(trailer[4..].try_into().expect("4 bytes"));
    let mut remark = None;
    if crc != step.1.sum() || isize != step.1.amount() {
        remark = Some((
            "gzip-trailer-mismatch",
            format!(
                "gzip member's trailer (crc32 {crc:08x}, size {isize}) does not match its data (crc32 {:08x}, size {}); \
                 the kernel does not check it, but the data is not what was compressed",
                step.1.sum(),
                step.1.amount()
            ),
        ));
    }
    if unsupported != 0 && remark.is_none() {
        remark = Some((
            "gzip-header-flags",
            format!(
                "gzip member sets header flags 0x{unsupported:02x}, which the kernel does not parse"
            ),
        ));
    }
    Ok((trailer_at + 8 - offset, remark))
}

/// Legacy lz4: magic, then chunks `[le32 size][block]` of at most 8 MiB output each. The
/// kernel stops when fewer than 4 bytes remain or at a zero size word (which it leaves for
/// the outer loop to skip as padding); a repeated magic word is skipped.
fn lz4_legacy(src: &Source, offset: u64, em: &mut Emitter) -> Result<u64, DecodeStop> {
    let len = src.len();
    let mut pos = offset;
    let mut word = [0u8; 4];
    if src.read_at(pos, &mut word)? < 4 || u32::from_le_bytes(word) != LZ4_LEGACY_MAGIC {
        return Err(fault(
            offset,
            "corrupt-member",
            "lz4 member: invalid header",
        ));
    }
    pos += 4;
    let mut out = vec![0u8; LZ4_LEGACY_CHUNK];
    let mut inbuf = Vec::new();
    let mut chunks = 0u64;
    loop {
        if len - pos < 4 {
            return Ok(pos - offset);
        }
        src.read_at(pos, &mut word)?;
        let size = u32::from_le_bytes(word);
        if size == LZ4_LEGACY_MAGIC {
            pos += 4;
            continue;
        }
        if size == 0 {
            return Ok(pos - offset);
        }
        let avail = len - pos - 4;
        let not_last = |what: &str| {
            if chunks > 0 && (Compression::from_magic(&word).is_some() || word.starts_with(b"0707"))
            {
                fault(
                    pos,
                    "lz4-legacy-not-last",
                    format!(
                        "another member follows a legacy-lz4 member directly; lz4 legacy has no end marker, so the \
                         kernel reads it as a chunk ({what}) and stops unpacking"
                    ),
                )
            } else {
                fault(pos, "corrupt-member", format!("lz4 member: {what}"))
            }
        };
        if u64::from(size) > avail {
            return Err(not_last(
                "data corrupted: chunk runs past the end of the image",
            ));
        }
        inbuf.resize(size as usize, 0);
        src.read_at(pos + 4, &mut inbuf)?;
        let n = lz4_flex::block::decompress_into(&inbuf, &mut out)
            .map_err(|e| not_last(&format!("decoding failed: {e}")))?;
        em.emit(&out[..n])?;
        chunks += 1;
        pos += 4 + u64::from(size);
    }
}

/// Reads `len` bytes or fewer at `offset` — for callers that need a short peek.
pub(crate) fn peek(src: &Source, offset: u64, len: usize) -> Result<Vec<u8>, Error> {
    let mut b = vec![0u8; len];
    let n = src.read_at(offset, &mut b)?;
    b.truncate(n);
    Ok(b)
}
