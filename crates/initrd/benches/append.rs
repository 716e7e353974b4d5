//! Benchmark: patching a ~100 MB zstd initrd by appending one overlay member (repack) versus
//! the incumbent's way (unmkinitramfs, copy the files in, cpio + zstd recompress).
//!
//! Run with `cargo bench -p repack-initrd --bench append`. Prints, for repack, the one decode
//! pass that indexes the base, the append (overlay built, patched image linted, written in
//! place or as a new file) and the cold total; for the incumbent, the whole unpack + repack.
//!
//! The fixture (an early microcode archive plus a zstd main archive built with `cpio` and
//! `zstd` from deterministic pseudo-random files, about half compressible) is generated once
//! under `target/initrd-bench/`. Needs cpio, zstd and unmkinitramfs (initramfs-tools-core).
//! `REPACK_BENCH_IMAGE=/path/initrd.img` benchmarks an existing image instead (without a
//! `scripts/init-top/ORDER` the hook is added without it). `REPACK_BENCH_MB` changes the
//! uncompressed size of the tree (default 200 MiB, which gives a ~105 MB image).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use repack_initrd::{Codec, Initrd, Overlay};

fn sh(script: &str, dir: &Path) {
    let st = Command::new("sh")
        .arg("-ec")
        .arg(script)
        .current_dir(dir)
        .status()
        .expect("run sh");
    assert!(st.success(), "failed: {script}");
}

/// Deterministic xorshift bytes.
fn fill(seed: u64, buf: &mut [u8]) {
    let mut x = seed | 1;
    for chunk in buf.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let b = x.to_le_bytes();
        chunk.copy_from_slice(&b[..chunk.len()]);
    }
}

fn fixture(dir: &Path, mb: usize) -> PathBuf {
    let img = dir.join(format!("base-{mb}.img"));
    if img.exists() {
        return img;
    }
    let tree = dir.join("tree");
    let _ = std::fs::remove_dir_all(&tree);
    let main = tree.join("main");
    let early = tree.join("early/kernel/x86/microcode");
    std::fs::create_dir_all(&early).unwrap();
    let mut ucode = vec![0u8; 100_000];
    fill(7, &mut ucode);
    std::fs::write(early.join("GenuineIntel.bin"), ucode).unwrap();
    let file_size = 80 * 1024;
    let files = mb * 1024 * 1024 / file_size;
    let text: Vec<u8> = (0..)
        .flat_map(|i: u32| format!("symbol_{i} ").into_bytes())
        .take(file_size / 2)
        .collect();
    for i in 0..files {
        let d = main.join(format!(
            "usr/lib/modules/6.1.0/kernel/drivers/d{:03}",
            i / 100
        ));
        std::fs::create_dir_all(&d).unwrap();
        let mut data = vec![0u8; file_size / 2];
        fill(2 * i as u64 + 11, &mut data);
        data.extend_from_slice(&text);
        std::fs::write(d.join(format!("m{i}.ko")), data).unwrap();
    }
    std::fs::create_dir_all(main.join("scripts/init-top")).unwrap();
    std::fs::write(
        main.join("scripts/init-top/ORDER"),
        "/scripts/init-top/udev \"$@\"\n",
    )
    .unwrap();
    sh(
        "(cd early && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > ../early.cpio && \
         (cd main && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | zstd -q -3 -T0 -c > ../main.zst && \
         cat ../early.cpio ../main.zst > ../img.tmp",
        &tree,
    );
    std::fs::rename(dir.join("img.tmp"), &img).unwrap();
    let _ = std::fs::remove_dir_all(&tree);
    img
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Runs `f` `runs` times and returns the median duration and the last result.
fn timed<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed());
    }
    (median(times), last.expect("runs > 0"))
}

const HOOK: &[u8] = b"#!/bin/sh\necho repack hook\n";

/// What every repack variant adds: the hook and the ORDER file that calls it, read from
/// the base and written whole.
fn overlay(initrd: &Initrd) -> Overlay {
    let mut order = initrd
        .read_file("scripts/init-top/ORDER")
        .unwrap()
        .unwrap_or_default();
    order.extend_from_slice(b"/scripts/init-top/99repack \"$@\"\n");
    Overlay::new()
        .file("scripts/init-top/ORDER", 0o644, order)
        .file("scripts/init-top/99repack", 0o755, HOOK.to_vec())
}

/// Builds the overlay member and checks the patched image (walked on from the base's end).
fn prepare(initrd: &Initrd) -> repack_initrd::Appendix {
    let appendix = initrd.appendix(&overlay(initrd), Codec::Zstd).unwrap();
    let lint = initrd.patched(&appendix).unwrap().lint();
    assert!(lint.is_clean(), "{:?}", lint.findings);
    appendix
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` probes with --list
    }
    let mb: usize = std::env::var("REPACK_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let runs = 7;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/initrd-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let t = Instant::now();
    let base = match std::env::var_os("REPACK_BENCH_IMAGE") {
        Some(p) => PathBuf::from(p),
        None => fixture(&dir, mb),
    };
    let base_bytes = std::fs::read(&base).unwrap();
    eprintln!(
        "fixture: {} ({:.1} MB, made in {:.1?})",
        base.display(),
        base_bytes.len() as f64 / 1e6,
        t.elapsed()
    );

    // The floor of any verified patch: one pass of the base through its decoders.
    let (open, initrd) = timed(runs, || Initrd::open(&base).unwrap());
    let decoded: u64 = initrd
        .segments()
        .iter()
        .map(|s| s.decompressed_len.unwrap_or(s.len))
        .sum();
    let (check, appendix) = timed(runs, || prepare(&initrd));

    // (1) The patched image as a new file: the base copied by the kernel, then the overlay.
    let out = dir.join("out-repack.img");
    let (new_file, ()) = timed(runs, || {
        let _ = std::fs::remove_file(&out);
        let file = std::fs::File::create_new(&out).unwrap();
        initrd.write_patched_file(&appendix, &file).unwrap();
        file.sync_all().unwrap();
    });
    let ours = std::fs::read(&out).unwrap();
    let identical_new = ours[..base_bytes.len()] == base_bytes[..];

    // (2) In place, as the pipeline's staged copy or `repack initrd append --in-place`: only
    // the overlay is written. Each run gets a fresh copy of the base (not timed).
    let work = dir.join("in-place.img");
    let mut in_place_times = Vec::new();
    let mut cold_times = Vec::new();
    for _ in 0..runs {
        std::fs::copy(&base, &work).unwrap();
        let t0 = Instant::now();
        let opened = Initrd::open(&work).unwrap();
        let t1 = Instant::now();
        let appendix = prepare(&opened);
        opened.append_in_place(&appendix, &work).unwrap();
        let t2 = Instant::now();
        in_place_times.push(t2 - t1);
        cold_times.push(t2 - t0);
    }
    let (in_place, cold) = (median(in_place_times), median(cold_times));
    let patched = std::fs::read(&work).unwrap();
    let identical_in_place = patched[..base_bytes.len()] == base_bytes[..];
    assert_eq!(patched, ours, "in place and new file give the same image");
    let _ = std::fs::remove_file(&work);

    // The zstd decoder alone over the compressed members, for comparison with `open`.
    let members: Vec<_> = initrd
        .segments()
        .iter()
        .filter(|s| {
            s.kind == repack_initrd::SegmentKind::Compressed(repack_initrd::Compression::Zstd)
        })
        .map(|s| (s.offset, s.len))
        .collect();
    let (zstd_alone, ()) = timed(runs, || {
        for &(offset, len) in &members {
            let member = &base_bytes[offset as usize..(offset + len) as usize];
            let mut decoder = zstd::stream::read::Decoder::new(member).unwrap();
            std::io::copy(&mut decoder, &mut std::io::sink()).unwrap();
        }
    });

    // The incumbent: unpack everything, copy the files in, pack and recompress the merged
    // tree. `zstd` with no options is what netboot.xyz's docker-iso-processor runs (level 3,
    // one thread); `zstd -q -9` is what mkinitramfs runs.
    let work = dir.join("incumbent");
    let mut incumbent = Vec::new();
    for (label, compress) in [
        ("docker-iso-processor: zstd", "zstd"),
        ("mkinitramfs: zstd -q -9", "zstd -q -9"),
    ] {
        let mut times = Vec::new();
        let mut len = 0;
        for _ in 0..3 {
            let _ = std::fs::remove_dir_all(&work);
            std::fs::create_dir_all(&work).unwrap();
            let script = format!(
                "unmkinitramfs {base} x
                 if [ -d x/main ]; then main=x/main; else main=x; fi
                 mkdir -p \"$main/scripts/init-top\"
                 printf '/scripts/init-top/99repack \"$@\"\\n' >> \"$main/scripts/init-top/ORDER\"
                 printf '#!/bin/sh\\necho repack hook\\n' > \"$main/scripts/init-top/99repack\"
                 chmod 755 \"$main/scripts/init-top/99repack\"
                 : > out.img
                 for d in x/early x/early2 x/early3; do
                   if [ -d \"$d\" ]; then (cd \"$d\" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >> out.img; fi
                 done
                 (cd \"$main\" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | {compress} -c >> out.img
                 sync out.img",
                base = base.display()
            );
            let t = Instant::now();
            sh(&script, &work);
            times.push(t.elapsed());
            len = std::fs::metadata(work.join("out.img")).unwrap().len();
        }
        incumbent.push((label, median(times), len));
    }
    let _ = std::fs::remove_dir_all(&work);

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "base image: {} ({:.1} MB, {:.0} MB decoded, {} entries), {} cores, medians of {runs} runs (incumbent: 3), warm page cache",
        base.display(),
        base_bytes.len() as f64 / 1e6,
        decoded as f64 / 1e6,
        initrd.entries().unwrap().len(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!(
        "repack  open: one decode pass, every entry indexed     {:>9.1} ms  (zstd decoder alone: {:.1} ms)",
        ms(open),
        ms(zstd_alone)
    );
    println!(
        "repack  overlay built + patched image linted           {:>9.1} ms  (walk goes on from the base's end)",
        ms(check)
    );
    println!(
        "repack  write: new file (kernel copy + overlay, fsync) {:>9.1} ms",
        ms(new_file)
    );
    println!(
        "repack  append in place (overlay + lint + write+fsync) {:>9.1} ms",
        ms(in_place)
    );
    println!(
        "repack  cold: open + append in place                   {:>9.1} ms",
        ms(cold)
    );
    println!(
        "repack  upstream bytes identical: new file {identical_new}, in place {identical_in_place}"
    );
    for (label, took, len) in &incumbent {
        let s = took.as_secs_f64();
        println!(
            "incumbent unmkinitramfs + cpio + {label:<28} {:>9.1} ms ({:.1} MB out, upstream main segment re-encoded)",
            s * 1e3,
            *len as f64 / 1e6,
        );
        println!(
            "    speed-up: append in place {:.0}x, append to a new file {:.0}x, cold (open + append in place) {:.0}x",
            s / (in_place).as_secs_f64(),
            s / (check + new_file).as_secs_f64(),
            s / cold.as_secs_f64(),
        );
    }
}
