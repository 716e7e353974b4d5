//! How long a failed job waits before its next attempt: exponential backoff with jitter.

use std::time::Duration;

/// Retry delays: `base · 2^(attempt − 1)`, capped at `max`, then stretched by a random factor
/// in `[1, 1 + jitter)` so jobs that failed together (a mirror outage) do not retry together.
///
/// Invariant: `jitter` is used clamped to `[0, 1]`; with at most 100 % jitter every delay
/// below the cap is longer than any delay the attempt before could have drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The delay after the first failed attempt (before jitter).
    pub base: Duration,
    /// The longest delay before jitter.
    pub max: Duration,
    /// Fraction of the delay added at random, `0.0..=1.0`.
    pub jitter: f64,
}

impl Default for Backoff {
    /// 30 s, 1 min, 2 min, 4 min, … up to 1 h, plus up to half again.
    fn default() -> Backoff {
        Backoff {
            base: Duration::from_secs(30),
            max: Duration::from_secs(3600),
            jitter: 0.5,
        }
    }
}

impl Backoff {
    /// The delay after the `attempt`-th failed attempt (1-based; 0 counts as 1).
    pub fn delay(&self, attempt: u32) -> Duration {
        self.delay_with(attempt, fastrand::f64())
    }

    /// [`Backoff::delay`] with the random draw `unit` in `[0, 1)` given.
    fn delay_with(&self, attempt: u32, unit: f64) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        let exponential = self.base.saturating_mul(1u32 << doublings);
        let capped = exponential.min(self.max);
        let jitter = self.jitter.clamp(0.0, 1.0) * unit.clamp(0.0, 1.0);
        capped.mul_f64(1.0 + jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::Backoff;
    use std::time::Duration;

    fn backoff() -> Backoff {
        Backoff {
            base: Duration::from_secs(10),
            max: Duration::from_secs(100),
            jitter: 0.5,
        }
    }

    #[test]
    fn doubles_until_the_cap() {
        let delays: Vec<u64> = (1..=6)
            .map(|attempt| backoff().delay_with(attempt, 0.0).as_secs())
            .collect();
        assert_eq!(delays, [10, 20, 40, 80, 100, 100]);
        assert_eq!(backoff().delay_with(0, 0.0), Duration::from_secs(10));
        assert_eq!(
            backoff().delay_with(u32::MAX, 0.0),
            Duration::from_secs(100)
        );
    }

    #[test]
    fn jitter_stretches_but_never_overtakes_the_next_attempt() {
        let most = backoff().delay_with(2, 0.999_999);
        assert!(most > Duration::from_secs(29) && most < Duration::from_secs(30));
        // Even full jitter stays below the next attempt's shortest delay.
        let full = Backoff {
            jitter: 7.0,
            ..backoff()
        };
        assert!(full.delay_with(2, 0.999_999) < full.delay_with(3, 0.0));
    }
}
