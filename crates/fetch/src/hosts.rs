//! The per-host request limit: one semaphore per `host:port`, created on first use and
//! shared by every clone of a [`Fetcher`](crate::Fetcher).
//!
//! Politeness is per server, not per recipe: fifty recipes on one mirror must not open fifty
//! connections to it at once. The key is the authority of the URL actually requested (after
//! mirror rewrites), so recipes rewritten to a local mirror share that mirror's slots.
//! Semaphores are never removed: a process talks to a handful of hosts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The semaphores, by `host:port`.
#[derive(Debug)]
pub(crate) struct HostLimits {
    /// Invariant: at least 1 (a limit of 0 would wait forever).
    limit: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// A slot of one host's limit, held while a request is in flight; released on drop.
#[derive(Debug)]
pub struct HostPermit {
    _permit: OwnedSemaphorePermit,
}

impl HostLimits {
    pub fn new(limit: usize) -> HostLimits {
        HostLimits {
            limit: limit.max(1),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a free slot of the host `url` names. A URL without a host (it is refused
    /// before any request) shares one slot set under the empty key.
    pub async fn acquire(&self, url: &str) -> HostPermit {
        let key = host_key(url);
        let semaphore = {
            let mut hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(
                hosts
                    .entry(key)
                    .or_insert_with(|| Arc::new(Semaphore::new(self.limit))),
            )
        };
        let permit = semaphore
            .acquire_owned()
            .await
            .expect("host semaphores are never closed");
        HostPermit { _permit: permit }
    }
}

/// `host:port` of `url` (the scheme's default port when none is written), lowercased.
fn host_key(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|url| {
            let host = url.host_str()?.to_ascii_lowercase();
            Some(match url.port_or_known_default() {
                Some(port) => format!("{host}:{port}"),
                None => host,
            })
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_told_apart_by_name_and_port() {
        assert_eq!(host_key("https://Mirror.Example/a/b"), "mirror.example:443");
        assert_eq!(host_key("http://mirror.example/x"), "mirror.example:80");
        assert_eq!(host_key("http://127.0.0.1:8080/x"), "127.0.0.1:8080");
        assert_eq!(host_key("not a url"), "");
    }

    #[tokio::test]
    async fn a_host_has_at_most_limit_slots_and_others_are_not_held_up() {
        let limits = HostLimits::new(2);
        let first = limits.acquire("http://a.example/1").await;
        let _second = limits.acquire("http://a.example/2").await;
        let third = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            limits.acquire("http://a.example/3"),
        )
        .await;
        assert!(third.is_err(), "a third slot of a.example was handed out");
        let _other = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            limits.acquire("http://b.example/1"),
        )
        .await
        .expect("another host has its own slots");
        drop(first);
        tokio::time::timeout(
            std::time::Duration::from_secs(5),
            limits.acquire("http://a.example/3"),
        )
        .await
        .expect("a released slot is handed out again");
    }
}
