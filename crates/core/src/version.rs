//! Ordering of upstream version strings.
//!
//! Versions are split into runs of digits and runs of other characters. Digit runs compare as
//! numbers (`10` > `8`, leading zeros ignored), other runs compare as text, and a `~` marks a
//! pre-release that sorts before the same version without it (`24.04~beta` < `24.04`), as in
//! Debian's version order. `.`, `-` and `_` are separators only.

use std::cmp::Ordering;
use std::fmt;

/// An upstream version string with a human ordering. Equality follows the ordering, so
/// `12.08` equals `12.8`.
#[derive(Debug, Clone)]
pub struct Version(String);

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Token<'a> {
    /// Sorts before everything, even the end of the string.
    Tilde,
    /// The end of the version; shorter versions sort first (`12.8` < `12.8.1`).
    End,
    Text(&'a str),
    /// Digits without leading zeros, compared by length then lexically, so no overflow.
    Number(&'a str),
}

impl Version {
    pub fn new(text: impl Into<String>) -> Self {
        Version(text.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn tokens(&self) -> impl Iterator<Item = Token<'_>> {
        let mut rest = self.0.as_str();
        std::iter::from_fn(move || {
            rest = rest.trim_start_matches(['.', '-', '_', '+']);
            let first = rest.chars().next()?;
            let (token, len) = if first == '~' {
                (Token::Tilde, 1)
            } else if first.is_ascii_digit() {
                let len = rest
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len());
                let digits = rest[..len].trim_start_matches('0');
                (Token::Number(digits), len)
            } else {
                let len = rest
                    .find(|c: char| c.is_ascii_digit() || matches!(c, '.' | '-' | '_' | '+' | '~'))
                    .unwrap_or(rest.len());
                (Token::Text(&rest[..len]), len)
            };
            rest = &rest[len..];
            Some(token)
        })
        .chain(std::iter::once(Token::End))
    }
}

fn compare_tokens(a: &Token<'_>, b: &Token<'_>) -> Ordering {
    match (a, b) {
        (Token::Number(x), Token::Number(y)) => x.len().cmp(&y.len()).then_with(|| x.cmp(y)),
        _ => a.cmp(b),
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let mut left = self.tokens();
        let mut right = other.tokens();
        loop {
            match (left.next(), right.next()) {
                (Some(a), Some(b)) => match compare_tokens(&a, &b) {
                    Ordering::Equal if a == Token::End => return Ordering::Equal,
                    Ordering::Equal => continue,
                    unequal => return unequal,
                },
                _ => return Ordering::Equal,
            }
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v(text: &str) -> Version {
        Version::new(text)
    }

    #[test]
    fn numeric_runs_compare_as_numbers() {
        assert!(v("12.10.0") > v("12.8.0"));
        assert!(v("12.8.1") > v("12.8"));
        assert!(v("2024.11.01") > v("2024.9.30"));
        assert!(v("40") < v("41"));
        assert_eq!(v("12.08"), v("12.8"));
    }

    #[test]
    fn pre_releases_sort_first() {
        assert!(v("24.04~beta") < v("24.04"));
        assert!(v("24.04~beta") > v("23.10"));
        assert!(v("24.04.1") > v("24.04"));
    }

    #[test]
    fn text_runs_compare_lexically() {
        assert!(v("1.0b") > v("1.0a"));
        assert!(v("1.0rc2") > v("1.0rc1"));
    }

    #[test]
    fn huge_numbers_do_not_overflow() {
        assert!(v("99999999999999999999999.1") > v("99999999999999999999998.9"));
    }

    proptest! {
        #[test]
        fn order_matches_integer_tuples(a in proptest::collection::vec(0u32..2000, 1..5),
                                        b in proptest::collection::vec(0u32..2000, 1..5)) {
            let text = |parts: &[u32]| parts.iter().map(u32::to_string).collect::<Vec<_>>().join(".");
            // Trailing-zero-free comparison matches lexicographic tuple comparison.
            prop_assert_eq!(v(&text(&a)).cmp(&v(&text(&b))), a.cmp(&b));
        }

        #[test]
        fn ordering_is_antisymmetric(a in "[0-9a-z.~-]{0,12}", b in "[0-9a-z.~-]{0,12}") {
            prop_assert_eq!(v(&a).cmp(&v(&b)), v(&b).cmp(&v(&a)).reverse());
        }
    }
}
