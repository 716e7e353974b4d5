//! Integration tests of repack-server. The webhook module's tests need no server; the others
//! run a real listener on 127.0.0.1 over a fresh catalogue, on SQLite and on PostgreSQL.
//!
//! Modules:
//! - `webhooks`: signed deliveries of every forge parsed from fixtures shaped like the real
//!   payloads (`tests/fixtures/webhooks/`), every refusal with its status and kind, secrets
//!   kept out of messages, and property tests (no panics, no bit flip accepted);
//! - `hooks`: the webhook endpoints: 202 and one job per recipe the repository triggers,
//!   replays, refusals that enqueue nothing, forges without a secret;
//! - `routes`: menus (all and per arch), files with Range, health, metrics, the JSON API and
//!   the status rows behind the page (current, behind, failing, stale, unpublished).

mod hooks;
mod routes;
mod support;
mod webhooks;
