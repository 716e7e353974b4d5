//! The body of the fuzz target, shared with the test that replays its corpus.

use crate::{Codec, Initrd, Limits, Overlay};

/// Opens `data` as an image with small limits and exercises every read path: entries,
/// tree, lint, the unpacked size, reading every file, and an append. Must never panic, and
/// checks what holds for every input: only a limit stops an image from opening, segments
/// cover it, the size figures are consistent, and an append is refused only for a reason
/// the image really has.
pub fn exercise(data: &[u8]) {
    let limits = Limits {
        max_member_output: 8 << 20,
        max_total_output: 16 << 20,
        max_entries: 10_000,
        max_read_file: 1 << 20,
        max_decoder_memory: 64 << 20,
    };
    let initrd = match Initrd::from_bytes(data.to_vec(), limits) {
        Ok(initrd) => initrd,
        // What the kernel would trip on is recorded as a fault, never raised: only repack's
        // own limits stop an image held in memory from opening.
        Err(e) => {
            assert!(
                matches!(e.kind(), "decompression-limit" | "too-many-entries"),
                "unexpected error opening an image: {e}"
            );
            return;
        }
    };
    let segments = initrd.segments();
    let mut at = 0;
    for s in segments {
        assert_eq!(s.offset, at, "segments are contiguous");
        at = s.end();
    }
    assert_eq!(at, initrd.len(), "segments cover the image");
    let _ = initrd.entries();
    let lint = initrd.lint();
    let size = initrd.unpacked_size();
    assert_eq!(lint.unpacked, size);
    assert!(
        size.complete,
        "a strict open decodes every member to its end"
    );
    assert!(size.peak_bytes >= size.resident_bytes, "{size:?}");
    assert!(
        size.resident_bytes >= size.inodes * crate::INODE_BYTES + size.file_bytes,
        "{size:?}"
    );
    assert!(
        size.file_bytes <= size.stream_bytes && size.files <= size.inodes,
        "{size:?}"
    );
    for t in initrd.tree().into_iter().take(200) {
        let _ = initrd.read_file(&t.path);
    }
    let overlay = Overlay::new()
        .mtime(0)
        .file("zz-fuzz/hook.sh", 0o755, b"#!/bin/sh\n".to_vec());
    let mut out = Vec::new();
    match initrd.append(&overlay, Codec::Gzip, &mut out) {
        Ok(report) => {
            assert_eq!(&out[..data.len()], data, "base bytes unchanged");
            assert_eq!(report.overlay_offset % 4096, 0);
        }
        Err(e) => {
            match e.kind() {
                // A fault or a cut-off entry: lint reports it.
                "base-not-clean" => assert!(!lint.is_clean(), "{e}"),
                "lz4-legacy-base" => assert!(initrd.ends_with_lz4_legacy(), "{e}"),
                // The input has something other than a directory at `zz-fuzz`.
                "would-replace" => {
                    assert!(initrd.tree().iter().any(|t| t.path == "zz-fuzz"), "{e}")
                }
                other => panic!("unexpected refusal ({other}): {e}"),
            }
            assert!(out.is_empty(), "a refused append writes nothing");
        }
    }
}
