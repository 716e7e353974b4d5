//! Benchmark: patching a ~100 MB zstd initrd by appending one overlay member (repack) versus
//! the incumbent's way (unmkinitramfs, copy the files in, cpio + zstd recompress).
//!
//! Run with `cargo bench -p repack-initrd --bench append`. The fixture (an early microcode
//! archive plus a zstd main archive built with `cpio` and `zstd` from deterministic
//! pseudo-random files, about half compressible) is generated once under
//! `target/initrd-bench/`. Needs cpio, zstd and unmkinitramfs (initramfs-tools-core).
//! `REPACK_BENCH_IMAGE=/path/initrd.img` benchmarks an existing image instead (it must have a
//! `scripts/init-top/ORDER` or the hook is added without it). `REPACK_BENCH_MB` changes the uncompressed size of the tree (default 200 MiB, which gives a
//! ~105 MB image: half of each file is incompressible).

use std::io::Write;
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

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` probes with --list
    }
    let mb: usize = std::env::var("REPACK_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/initrd-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let t = Instant::now();
    let base = match std::env::var_os("REPACK_BENCH_IMAGE") {
        Some(p) => PathBuf::from(p),
        None => fixture(&dir, mb),
    };
    let base_len = std::fs::metadata(&base).unwrap().len();
    eprintln!(
        "fixture: {} ({:.1} MB, made in {:.1?})",
        base.display(),
        base_len as f64 / 1e6,
        t.elapsed()
    );

    let hook = b"#!/bin/sh\necho repack hook\n".to_vec();
    let out = dir.join("out-repack.img");
    let (mut t_open, mut t_append, mut t_lint) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..5 {
        let t0 = Instant::now();
        let initrd = Initrd::open(&base).unwrap();
        let t1 = Instant::now();
        let mut order = initrd
            .read_file("scripts/init-top/ORDER")
            .unwrap()
            .unwrap_or_default();
        order.extend_from_slice(b"/scripts/init-top/99repack \"$@\"\n");
        let overlay = Overlay::new()
            .file("scripts/init-top/ORDER", 0o644, order)
            .file("scripts/init-top/99repack", 0o755, hook.clone());
        let mut w = std::io::BufWriter::new(std::fs::File::create(&out).unwrap());
        initrd.append(&overlay, Codec::Zstd, &mut w).unwrap();
        w.flush().unwrap();
        drop(w);
        let t2 = Instant::now();
        let lint = repack_initrd::lint(&out).unwrap();
        assert!(lint.is_clean(), "{:?}", lint.findings);
        let t3 = Instant::now();
        t_open.push(t1 - t0);
        t_append.push(t2 - t1);
        t_lint.push(t3 - t2);
    }
    let (open, append, lint) = (median(t_open), median(t_append), median(t_lint));
    let ours = std::fs::read(&out).unwrap();
    let base_bytes = std::fs::read(&base).unwrap();
    let identical = ours[..base_bytes.len()] == base_bytes[..];

    // The incumbent: unpack everything, copy the files in, pack and recompress.
    let work = dir.join("incumbent");
    let mut incumbent = Vec::new();
    // -9 is mkinitramfs's default zstd level.
    for level in ["-3", "-9", "-19"] {
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
             (cd \"$main\" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | zstd -q {level} -T0 -c >> out.img",
            base = base.display()
        );
        let t = Instant::now();
        sh(&script, &work);
        let took = t.elapsed();
        let len = std::fs::metadata(work.join("out.img")).unwrap().len();
        incumbent.push((level, took, len));
    }
    let _ = std::fs::remove_dir_all(&work);

    println!(
        "base image: {} ({:.1} MB), {} cores",
        base.display(),
        base_len as f64 / 1e6,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!("repack  open (split + index every entry):  {open:>10.2?}");
    println!("repack  append (copy base + overlay):      {append:>10.2?}");
    println!(
        "repack  open + append:                     {:>10.2?}",
        open + append
    );
    println!("repack  lint of the output:                {lint:>10.2?}");
    println!("repack  upstream bytes identical:          {identical}");
    for (level, took, len) in &incumbent {
        println!(
            "incumbent unmkinitramfs + cpio + zstd {level:<3}: {took:>10.2?} ({:.1} MB; upstream main segment re-encoded)  => repack open+append is {:.0}x faster",
            *len as f64 / 1e6,
            took.as_secs_f64() / (open + append).as_secs_f64()
        );
    }
}
