//! The node's clock: the system clock, or a simulated one.
//!
//! Every time a node writes — entry times, cosignature times, deadlines,
//! the skew check — comes from [`now`]. A simulation (the demo replays 2021)
//! shifts the clock to a chosen moment and lets it run from there at real
//! speed; it only ever moves forward, like the real one. Nothing else in the
//! node may read the system clock for these purposes.

use std::sync::atomic::{AtomicI64, Ordering};

use jiff::{SignedDuration, Timestamp};

/// Offset from the system clock, in microseconds (0: not simulated).
static OFFSET_MICROS: AtomicI64 = AtomicI64::new(0);

/// The current time as this process's nodes see it.
pub fn now() -> Timestamp {
    let real = Timestamp::now();
    let off = OFFSET_MICROS.load(Ordering::Relaxed);
    if off == 0 {
        return real;
    }
    real.checked_add(SignedDuration::from_micros(off))
        .unwrap_or(real)
}

/// Moves the clock to `t` (never backwards: a later call with an earlier
/// time is ignored) and lets it run on from there.
pub fn advance_to(t: Timestamp) {
    if t > now() {
        set(t);
    }
}

/// Starts a simulation at `t`, which may be in the past (only before
/// anything was written in this process).
pub fn simulate_from(t: Timestamp) {
    set(t);
}

fn set(t: Timestamp) {
    let off = t.duration_since(Timestamp::now()).as_micros();
    let off = i64::try_from(off).unwrap_or(if off < 0 { i64::MIN } else { i64::MAX });
    // 0 means "not simulated"; a simulation exactly at real time is 1 µs off.
    OFFSET_MICROS.store(if off == 0 { 1 } else { off }, Ordering::Relaxed);
}

/// Whether the clock is simulated.
pub fn simulated() -> bool {
    OFFSET_MICROS.load(Ordering::Relaxed) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_time_runs_from_the_chosen_moment_and_never_goes_back() {
        let start: Timestamp = "2021-01-01T00:00:00Z".parse().unwrap();
        simulate_from(start);
        assert!(simulated());
        let a = now();
        assert!(
            a >= start && a < start + SignedDuration::from_secs(5),
            "{a}"
        );
        let later: Timestamp = "2021-06-09T00:00:00Z".parse().unwrap();
        advance_to(later);
        let b = now();
        assert!(
            b >= later && b < later + SignedDuration::from_secs(5),
            "{b}"
        );
        advance_to(start);
        assert!(now() >= b, "the clock never goes back");
    }
}
