//! Integration tests of repack-fetch against real HTTP servers on 127.0.0.1.
//!
//! Modules:
//! - `server`: the fault-injecting stand-in server used by most tests.
//! - `iso`: full downloads, cache hits, resume after a cut (same call and a later call),
//!   validators and ranges refused on resume, checksum mismatch and quarantine, HTTP errors.
//! - `servedir`: resume against tower-http's `ServeDir` (Last-Modified only, no If-Range).
//! - `text`: `fetch_text` status, size cap, UTF-8.
//! - `mirror`: mirror rewrites are applied to every request and named in errors.
//! - `politeness`: conditional requests (ETag, Last-Modified) and their 304s without a body,
//!   the `User-Agent`, the per-host limit on requests in flight.

mod iso;
mod mirror;
mod politeness;
mod servedir;
mod server;
mod text;

use repack_core::Sha256Digest;
use repack_fetch::{FetchConfig, Fetcher, Reporter};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

/// A fetcher with fast retries, writing below `cache`.
pub fn fetcher(cache: &Path, retries: u32) -> Fetcher {
    Fetcher::new(config(cache, retries)).unwrap()
}

pub fn config(cache: &Path, retries: u32) -> FetchConfig {
    let mut config = FetchConfig::new(cache);
    config.retries = retries;
    config.retry_backoff = Duration::from_millis(10);
    config.connect_timeout = Duration::from_secs(5);
    config.read_timeout = Duration::from_secs(5);
    config.user_agent = "repack-test".to_owned();
    config
}

/// `len` bytes that differ from one seed to another and are not periodic.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u8
        })
        .collect()
}

pub fn digest(data: &[u8]) -> Sha256Digest {
    Sha256Digest::of(data)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Started {
        url: String,
        total: Option<u64>,
        resumed_from: u64,
    },
    Finished,
}

/// Records what a download reported.
#[derive(Default)]
pub struct Recorder {
    pub events: Mutex<Vec<Event>>,
    pub advanced: Mutex<u64>,
}

impl Recorder {
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }

    pub fn advanced(&self) -> u64 {
        *self.advanced.lock().unwrap()
    }
}

impl Reporter for Recorder {
    fn started(&self, url: &str, total: Option<u64>, resumed_from: u64) {
        self.events.lock().unwrap().push(Event::Started {
            url: url.to_owned(),
            total,
            resumed_from,
        });
    }

    fn advanced(&self, bytes: u64) {
        *self.advanced.lock().unwrap() += bytes;
    }

    fn finished(&self) {
        self.events.lock().unwrap().push(Event::Finished);
    }
}

/// Files below `dir`, relative, sorted.
pub fn files_below(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}
