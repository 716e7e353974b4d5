//! Property tests of version ordering and pre-release detection (fuzz-style: any text).

use proptest::prelude::*;
use repack_watch::policy::{is_prerelease, order_key};
use repack_watch::{Freshness, freshness};

proptest! {
    #[test]
    fn any_text_orders_without_panicking_and_antisymmetrically(a in "\\PC{0,40}", b in "\\PC{0,40}") {
        let ab = order_key(&a).cmp(&order_key(&b));
        prop_assert_eq!(ab, order_key(&b).cmp(&order_key(&a)).reverse());
        let _ = is_prerelease(&a);
    }

    #[test]
    fn a_pre_release_sorts_before_its_release(
        parts in proptest::collection::vec(0u32..3000, 1..4),
        word in prop::sample::select(vec!["rc1", "beta", "alpha2", "daily", "Beta", "pre"]),
        sep in prop::sample::select(vec!["-", "~", ".", " ", "_"]),
    ) {
        let release = parts.iter().map(u32::to_string).collect::<Vec<_>>().join(".");
        let pre = format!("{release}{sep}{word}");
        prop_assert!(is_prerelease(&pre));
        prop_assert!(!is_prerelease(&release));
        prop_assert!(order_key(&pre) < order_key(&release), "{} !< {}", pre, release);
        prop_assert_eq!(freshness(&pre, Some(&release)), Freshness::Backwards);
    }

    #[test]
    fn dotted_versions_order_like_integer_tuples(
        a in proptest::collection::vec(0u32..2000, 3),
        b in proptest::collection::vec(0u32..2000, 3),
    ) {
        let text = |parts: &[u32]| parts.iter().map(u32::to_string).collect::<Vec<_>>().join(".");
        prop_assert_eq!(order_key(&text(&a)).cmp(&order_key(&text(&b))), a.cmp(&b));
    }
}
