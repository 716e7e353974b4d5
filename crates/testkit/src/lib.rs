//! Shared test support for repack's crates and end-to-end tests.
//!
//! - [`fixtures`]: real images made by real tools (mmdebstrap, mkinitramfs, mksquashfs,
//!   xorriso) through the committed scripts in `tests/fixtures/`, built once per machine and
//!   cached by the script's content hash.
//! - [`upstream`]: an HTTP server on 127.0.0.1 that serves files with Range and validators,
//!   records every request, and injects the faults real mirrors have (cut transfers, flipped
//!   bytes, truncated files, outages).
//! - [`feed`]: a feed stand-in on 127.0.0.1 that answers paths (and path + query, for
//!   paginated APIs) with prepared replies, answers conditional requests with 304 when the
//!   reply carries validators, and logs what watchers asked for and were told.
//! - [`github`]: a strict stand-in for GitHub's releases API (API and upload ports): drafts,
//!   pagination, `starter` assets after a cut upload, digests, name rewriting, size limit,
//!   rate-limit and 5xx answers on demand; tests assert its final state.
//! - [`shaped`]: ISOs laid out like each upstream's live media (Ubuntu, Arch, Manjaro, …)
//!   with initrds carrying what each boot family reads, for the shipped recipes' end-to-end
//!   runs.
//! - [`database`] and [`postgres`]: a fresh database per test on SQLite or PostgreSQL (a
//!   throwaway PostgreSQL cluster per test process, no containers), and
//!   [`test_on_both_backends!`] to run one behavioural test on both.
//! - [`gpg`]: throwaway OpenPGP keys made by GnuPG (a signing subkey, an expired key) that
//!   sign the way upstreams sign their checksum lists and ISOs.
//! - [`repack_binary`]: the path of the built `repack` binary.
//!
//! Nothing here talks to any host but 127.0.0.1 (and a Unix socket of the test PostgreSQL
//! cluster), unless `REPACK_TEST_POSTGRES_URL` names another server.

pub mod database;
pub mod feed;
pub mod fixtures;
pub mod github;
pub mod gpg;
pub mod postgres;
pub mod shaped;
pub mod upstream;

use std::path::PathBuf;

/// The workspace root (where `Cargo.toml`, `recipes/` and `tests/fixtures/` are).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .nth(2)
        .expect("crates/testkit is two levels below the workspace root")
        .to_owned()
}

/// The `repack` binary next to the running test executable (`target/<profile>/repack`), or
/// `$REPACK_BIN`. Panics with the command to run when it has not been built.
pub fn repack_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("REPACK_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the test knows its own path");
    // target/<profile>/deps/<test> -> target/<profile>/repack
    let candidate = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|profile| profile.join("repack"))
        .expect("test executables live in target/<profile>/deps");
    assert!(
        candidate.is_file(),
        "{} is missing: build it first with `cargo build -p repack` (the README's test command does)",
        candidate.display()
    );
    candidate
}
