//! Boot menus rendered from data they are handed: an iPXE script ([`render_ipxe`]) and a
//! netboot.xyz-style `endpoints.yml` ([`render_endpoints_yml`]).
//!
//! A [`MenuEntry`] is built from a release's [`Manifest`](repack_core::Manifest) and the
//! release's path under the menu base URL ([`MenuEntry::from_manifest`]). Construction validates every value that will reach the
//! script against iPXE's parsing rules (no line breaks, no `${`, no `#`, `||`, `&&` or `;` words, labels
//! of `[A-Za-z0-9_-]` only): a hostile name,
//! version or command line is rejected with an error naming the field, never written. Both
//! renderers are therefore infallible on the script side and deterministic (no clock, no
//! environment), so their output can be snapshot-tested and regenerated idempotently.
//!
//! The script is written by plain Rust rather than a minijinja template: iPXE has no quoting
//! or escaping at all (a line is split on whitespace; `${`, a word starting with `#`, and the
//! words `||`, `&&` and `;` are special), so safety cannot come from a template engine's
//! escaping and must come from validating values before they are placed. With code, every
//! interpolated value is a validated [`MenuEntry`] or [`MenuOptions`] field, and the
//! structure (labels, gotos, arch guards) is built from the same data the tests check.
//!
//! This crate does no I/O and reads no database: callers (the CLI, the server) fetch current
//! builds from the catalogue and write the returned text where they want it.

mod endpoints;
mod entry;
mod ipxe;
mod syntax;

pub use endpoints::render_endpoints_yml;
pub use entry::{MenuEntry, MenuError};
pub use ipxe::{MenuOptions, render_ipxe};
