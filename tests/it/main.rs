//! End-to-end tests of the `repack` binary on a real Debian live ISO (see
//! tests/fixtures/make-debian-live.sh) served from 127.0.0.1 through a mirror rewrite.
//!
//! - `run`: a release is published whole (files, parts, manifest, SHA256SUMS, catalogue,
//!   menu), the initrd keeps the upstream bytes and its overlay is readable by cpio, and a
//!   second run changes nothing.
//! - `crash`: `repack worker` killed with SIGKILL at ≥ 10 random points of a real build
//!   (download, after verification, assembly, publish, before the catalogue commit) and
//!   restarted: the build is published once, nothing partial is ever current, the download
//!   resumes; on SQLite and PostgreSQL.
//! - `failures`: corrupted, mislisted, incomplete and truncated images and an unreachable
//!   upstream fail with a clear error and publish nothing.
//! - `resume`: interrupted downloads resume with Range, in one run and across runs.
//! - `reuse`: a rebuild whose root image is unchanged points at the published parts by URL
//!   (manifest and the initrd's rootfs list) and stores none of them again; on the GitHub
//!   stand-in it uploads none, and retention keeps the release it points into.
//! - `recipes`: the shipped recipes of each feed shape (Ubuntu, Arch, Manjaro, Pop!_OS) on
//!   stand-ins shaped like their upstreams: the right release among decoys, published,
//!   listed and in the menu; signed lists and ISOs refused when the signature fails.
//! - `side_files`: a boot family's own files beside the image are published and listed.
//! - `trust`: signatures over the list and over the ISO, made by throwaway keys, are
//!   checked against the pinned key; failures name the signature and publish nothing.
//! - `serve`: `repack serve` beside `repack worker`: a signed webhook queues a build, which
//!   the server then serves (menu, files with Range, status page); `status --check-links`.
//! - `status_page`: the status page rendered by headless Chromium (current, failing, stale).
//! - `worker`: `repack worker` builds a job queued in the database and stops on SIGTERM.
//! - `zisofs`: zisofs-compressed files are published decoded or refused, never raw.
//! - `publish_github`: `repack publish github` publishes a release directory and explicit
//!   files to the GitHub stand-in (same publisher as the pipeline); re-runs write nothing.
//! - `watch`: `repack watch` reports new, current and failing recipes against the catalogue
//!   (RFC 3339 times, exit code 3), revalidates feeds with 304s, and sweeps `--all`
//!   concurrently within the per-host limit.

mod crash;
mod failures;
mod publish_github;
mod recipes;
mod resume;
mod reuse;
mod run;
mod serve;
mod side_files;
mod status_page;
mod trust;
mod watch;
mod worker;
mod zisofs;
