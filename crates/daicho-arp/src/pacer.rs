//! Packet pacing on an absolute schedule: packet `n` is due at `n / rate` seconds
//! after the start. The sender asks how many packets are due, sends them as a
//! burst and sleeps until the next one. Scheduling against the start (not the
//! previous packet) keeps the average rate exact even though the OS sleeps
//! coarsely, and a late wake-up never speeds the sweep up beyond a short burst.

use std::time::Duration;

/// Largest burst sent after a late wake-up, so a stalled sender catches up
/// gradually instead of flooding the segment.
const MAX_BURST: u64 = 64;

/// A fixed-rate schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pacer {
    rate: f64,
}

impl Pacer {
    /// `rate` packets per second; values below 1 are raised to 1.
    pub fn new(rate: u32) -> Pacer {
        Pacer {
            rate: f64::from(rate.max(1)),
        }
    }

    /// How many packets may go now, `elapsed` after the start with `sent` already
    /// sent.
    pub fn due(&self, elapsed: Duration, sent: u64) -> u64 {
        // Packet n is due at n / rate, so floor(elapsed * rate) + 1 packets are due.
        let allowed = (elapsed.as_secs_f64() * self.rate).floor() as u64 + 1;
        allowed.saturating_sub(sent).min(MAX_BURST)
    }

    /// When packet number `sent` (zero-based) is due, measured from the start.
    pub fn due_at(&self, sent: u64) -> Duration {
        Duration::from_secs_f64(sent as f64 / self.rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_packet_goes_at_once() {
        assert_eq!(Pacer::new(500).due(Duration::ZERO, 0), 1);
        assert_eq!(Pacer::new(500).due(Duration::ZERO, 1), 0);
    }

    #[test]
    fn schedule_is_absolute() {
        let pacer = Pacer::new(1000);
        assert_eq!(pacer.due(Duration::from_millis(10), 0), 11);
        assert_eq!(pacer.due(Duration::from_millis(10), 11), 0);
        assert_eq!(pacer.due_at(11), Duration::from_millis(11));
    }

    #[test]
    fn late_wake_up_bursts_are_bounded() {
        let pacer = Pacer::new(50_000);
        assert_eq!(pacer.due(Duration::from_secs(1), 0), MAX_BURST);
    }

    /// Simulate a sender that wakes at random-ish late times and check the
    /// achieved rate over a second stays within 1% at every rate we support.
    #[test]
    fn simulated_rate_is_accurate() {
        for rate in [500u32, 2_000, 10_000, 50_000, 100_000] {
            let pacer = Pacer::new(rate);
            let mut now = Duration::ZERO;
            let mut sent = 0u64;
            let mut wobble = 0u64;
            while now < Duration::from_secs(1) {
                sent += pacer.due(now, sent);
                // Sleep until the next packet, plus 0–90 µs of OS lateness.
                wobble = (wobble * 7 + 13) % 10;
                now = pacer.due_at(sent).max(now) + Duration::from_micros(wobble * 10);
            }
            let achieved = sent as f64 / now.as_secs_f64();
            let error = (achieved - f64::from(rate)).abs() / f64::from(rate);
            assert!(error < 0.01, "rate {rate}: achieved {achieved:.0}");
        }
    }
}
