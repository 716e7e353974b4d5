//! Shared helpers: an image builder that remembers where each member starts, raw newc
//! entries for hostile fixtures, and external tools that fail loudly when missing.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use repack_initrd::Initrd;
pub use repack_initrd::testing::{Image, Newc};

/// Fails the test with a clear message when `tool` is not installed.
pub fn require(tool: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "required tool `{tool}` is not installed (Debian: apt-get install cpio initramfs-tools-core zstd xz-utils lz4 gzip bzip2)"
    );
}

/// Runs `cmd args` with `input` on stdin; returns stdout; fails on a non-zero exit.
pub fn run(cmd: &str, args: &[&str], input: &[u8], dir: Option<&Path>) -> Vec<u8> {
    require(cmd);
    let mut c = Command::new(cmd);
    c.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(d) = dir {
        c.current_dir(d);
    }
    let mut child = c
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `{cmd}`: {e}"));
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("writer");
    assert!(
        out.status.success(),
        "`{cmd} {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Names listed by `cpio -t` for one uncompressed archive.
pub fn cpio_names(archive: &[u8]) -> Vec<String> {
    let out = run("cpio", &["-t", "--quiet"], archive, None);
    String::from_utf8(out)
        .expect("utf8")
        .lines()
        .map(str::to_string)
        .collect()
}

/// Our entry names (trailers excluded) for segment `seg`.
pub fn our_names(initrd: &Initrd, seg: usize) -> Vec<String> {
    initrd
        .entries()
        .expect("entries")
        .into_iter()
        .filter(|e| e.segment == seg)
        .map(|e| e.name)
        .collect()
}

/// A minimal, independent newc walker for checking our writer: (name, mode, data) per entry,
/// trailer excluded.
pub fn walk_newc(archive: &[u8]) -> Vec<(String, u32, Vec<u8>)> {
    let hex =
        |b: &[u8]| u32::from_str_radix(std::str::from_utf8(b).expect("ascii"), 16).expect("hex");
    let mut out = Vec::new();
    let mut p = 0usize;
    loop {
        assert_eq!(&archive[p..p + 6], b"070701", "magic at {p}");
        let f = |i: usize| hex(&archive[p + 6 + 8 * i..p + 14 + 8 * i]);
        let (mode, size, namesize) = (f(1), f(6) as usize, f(11) as usize);
        let name = std::str::from_utf8(&archive[p + 110..p + 110 + namesize - 1])
            .expect("utf8")
            .to_string();
        let data_at = (p + 110 + namesize + 3) & !3;
        let data = archive[data_at..data_at + size].to_vec();
        p = (data_at + size + 3) & !3;
        if name == "TRAILER!!!" {
            assert_eq!(p, archive.len(), "trailer ends the archive");
            return out;
        }
        out.push((name, mode, data));
    }
}
