//! Round-trip estimates per host, as TCP keeps them (RFC 6298): a smoothed
//! mean and its variation, so one slow answer widens the timeout and a run
//! of quick ones narrows it again.

use std::time::Duration;

/// A host's round-trip estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RttEstimate {
    smoothed: Duration,
    variation: Duration,
}

impl RttEstimate {
    /// The estimate after a first measurement.
    pub fn first(sample: Duration) -> RttEstimate {
        RttEstimate {
            smoothed: sample,
            variation: sample / 2,
        }
    }

    /// Folds in one more measurement (RFC 6298 §2.3: α = 1/8, β = 1/4).
    pub fn update(&mut self, sample: Duration) {
        let deviation = self.smoothed.abs_diff(sample);
        self.variation = (self.variation * 3 + deviation) / 4;
        self.smoothed = (self.smoothed * 7 + sample) / 8;
    }

    /// How long to wait for an answer: mean plus four variations, within
    /// `floor..=ceiling`.
    pub fn timeout(&self, floor: Duration, ceiling: Duration) -> Duration {
        (self.smoothed + self.variation * 4).clamp(floor, ceiling.max(floor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLOOR: Duration = Duration::from_millis(1000);
    const CEILING: Duration = Duration::from_secs(3);

    #[test]
    fn a_lan_round_trip_waits_the_floor() {
        let estimate = RttEstimate::first(Duration::from_micros(300));
        assert_eq!(estimate.timeout(FLOOR, CEILING), FLOOR);
    }

    #[test]
    fn a_slow_host_widens_its_timeout_up_to_the_ceiling() {
        let low_floor = Duration::from_millis(100);
        let mut estimate = RttEstimate::first(Duration::from_millis(300));
        // 300 ms + 4 × 150 ms.
        assert_eq!(
            estimate.timeout(low_floor, CEILING),
            Duration::from_millis(900)
        );
        estimate.update(Duration::from_millis(900));
        // smoothed 375 ms, variation (3 × 150 + 600) / 4 = 262.5 ms.
        assert_eq!(
            estimate.timeout(low_floor, CEILING),
            Duration::from_micros(375_000 + 4 * 262_500)
        );
        for _ in 0..20 {
            estimate.update(Duration::from_secs(5));
        }
        assert_eq!(estimate.timeout(FLOOR, CEILING), CEILING);
    }

    #[test]
    fn quick_answers_narrow_it_again() {
        let mut estimate = RttEstimate::first(Duration::from_millis(800));
        let wide = estimate.timeout(FLOOR, CEILING);
        for _ in 0..30 {
            estimate.update(Duration::from_millis(5));
        }
        assert!(estimate.timeout(FLOOR, CEILING) < wide);
        assert_eq!(estimate.timeout(FLOOR, CEILING), FLOOR);
    }
}
