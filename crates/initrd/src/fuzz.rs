//! The body of the fuzz target, shared with the test that replays its corpus.

use crate::{Codec, Initrd, Limits, Overlay};

/// Opens `data` as an image with small limits and exercises every read path: entries,
/// tree, lint, reading every file, and an append. Must never panic.
pub fn exercise(data: &[u8]) {
    let limits = Limits {
        max_member_output: 8 << 20,
        max_total_output: 16 << 20,
        max_entries: 10_000,
        max_read_file: 1 << 20,
        max_decoder_memory: 64 << 20,
    };
    let Ok(initrd) = Initrd::from_bytes(data.to_vec(), limits) else {
        return;
    };
    let segments = initrd.segments();
    let mut at = 0;
    for s in segments {
        assert_eq!(s.offset, at, "segments are contiguous");
        at = s.end();
    }
    assert_eq!(at, initrd.len(), "segments cover the image");
    let _ = initrd.entries();
    let _ = initrd.lint();
    for t in initrd.tree().into_iter().take(200) {
        let _ = initrd.read_file(&t.path);
    }
    let overlay = Overlay::new()
        .mtime(0)
        .file("zz-fuzz/hook.sh", 0o755, b"#!/bin/sh\n".to_vec());
    let mut out = Vec::new();
    if let Ok(report) = initrd.append(&overlay, Codec::Gzip, &mut out) {
        assert_eq!(&out[..data.len()], data, "base bytes unchanged");
        assert_eq!(report.overlay_offset % 4096, 0);
    }
}
