//! Integration tests of repack-menu.
//!
//! Modules:
//! - `ipxe`: snapshots of the iPXE menu (two arches, empty), the kernel line, and the
//!   script's structure checked by iPXE's parsing rules (`script_rules`);
//! - `hostile`: values that would break or hijack the script are refused;
//! - `endpoints`: the endpoints.yml export.

mod endpoints;
mod hostile;
mod ipxe;
mod script_rules;
mod support;
