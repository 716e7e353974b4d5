//! The fuzz harness of version ordering, shared by `fuzz/fuzz_targets/versions.rs` and the
//! test that replays the committed corpus (`tests/it/corpus.rs`). Panics are the bugs it
//! looks for, and orderings that are not total orders. Not a stable API.
//!
//! One input is up to three versions, one per line (lossy UTF-8; `\r` is part of a
//! version). With fewer lines, the missing ones are made from the first: it with a
//! pre-release suffix (`-rc1`) and it with one more component (`.1`). Over every ordered
//! pair and triple of them, [`order_key`] must be a total order: reflexive, antisymmetric,
//! transitive, with equality exactly where the order says `Equal`; [`freshness`] must agree
//! with it; and [`is_prerelease`] must not panic. A plain dotted number (`24.04.1`) must
//! sort after itself with a pre-release suffix, however the suffix is written.

use crate::policy::{is_prerelease, order_key};
use crate::{Freshness, freshness};
use std::cmp::Ordering;

/// Version input: up to three versions, one per line.
pub fn versions(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines: Vec<String> = text.split('\n').take(3).map(str::to_owned).collect();
    let first = lines[0].clone();
    if lines.len() < 2 {
        lines.push(format!("{first}-rc1"));
    }
    if lines.len() < 3 {
        lines.push(format!("{first}.1"));
    }
    let keys: Vec<_> = lines.iter().map(|line| order_key(line)).collect();

    for (a, key_a) in lines.iter().zip(&keys) {
        let _ = is_prerelease(a);
        assert_eq!(
            key_a.cmp(key_a),
            Ordering::Equal,
            "{a:?} is not equal to itself"
        );
        assert_eq!(freshness(a, Some(a)), Freshness::Current, "{a:?}");
        for (b, key_b) in lines.iter().zip(&keys) {
            let ab = key_a.cmp(key_b);
            assert_eq!(
                ab,
                key_b.cmp(key_a).reverse(),
                "{a:?} vs {b:?}: not antisymmetric"
            );
            assert_eq!(key_a == key_b, ab == Ordering::Equal, "{a:?} vs {b:?}");
            let expected = match ab {
                Ordering::Greater => Freshness::New,
                Ordering::Equal => Freshness::Current,
                Ordering::Less => Freshness::Backwards,
            };
            assert_eq!(freshness(a, Some(b)), expected, "{a:?} vs {b:?}");
            for (c, key_c) in lines.iter().zip(&keys) {
                if key_a <= key_b && key_b <= key_c {
                    assert!(
                        key_a <= key_c,
                        "{a:?} <= {b:?} <= {c:?} but not {a:?} <= {c:?}"
                    );
                }
                if key_a == key_b && key_b == key_c {
                    assert!(
                        key_a == key_c,
                        "{a:?} = {b:?} = {c:?} but not {a:?} = {c:?}"
                    );
                }
            }
        }
    }

    for line in &lines {
        let plain = !line.is_empty()
            && line
                .split('.')
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
        if plain {
            for suffix in ["-rc1", "~beta2", ".alpha", " Beta", "_pre1"] {
                let pre = format!("{line}{suffix}");
                assert!(is_prerelease(&pre), "{pre:?}");
                assert!(
                    order_key(&pre) < order_key(line),
                    "{pre:?} is not before {line:?}"
                );
            }
        }
    }
}
