//! The receipts a peer may make this node owe: a fixed window per peer.
//!
//! Each entry addressed to one of this party's offices makes the receiver
//! append a receipt to its own log. A hostile peer holding its own keys can
//! sign entries as fast as it likes; without a bound it would grow our log
//! (and our storage, and every later proof) at its pace. The budget is
//! counted when a push is accepted, so a refused push costs nothing, and it
//! is all or nothing per push: the mirror keeps the sender's signed
//! checkpoint with every run it stores, and only the sender can sign one for
//! a shorter run. The 429 answer says how many fit now, so an honest sender
//! cuts its next push there and loses nothing.
//!
//! The window lives in memory: a restart of this node starts a new one,
//! which a peer cannot cause.

use std::time::{Duration, Instant};

/// One peer's window.
#[derive(Debug, Default)]
pub struct ReceiptWindow {
    start: Option<Instant>,
    used: u64,
}

/// What the current window still allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allowance {
    /// Receipts that may still be owed in this window (`u64::MAX`: no limit).
    pub receipts: u64,
    /// Until the window ends.
    pub resets_in: Duration,
}

impl ReceiptWindow {
    /// What may still be owed at `now`, under at most `max` receipts per
    /// `len` (`max == 0`: no limit). Starts a new window once the last has
    /// passed.
    pub fn allowance(&mut self, now: Instant, max: u64, len: Duration) -> Allowance {
        if max == 0 {
            return Allowance {
                receipts: u64::MAX,
                resets_in: Duration::ZERO,
            };
        }
        let len = len.max(Duration::from_secs(1));
        let start = match self.start {
            Some(s) if now.saturating_duration_since(s) < len => s,
            _ => {
                self.start = Some(now);
                self.used = 0;
                now
            }
        };
        Allowance {
            receipts: max.saturating_sub(self.used),
            resets_in: len.saturating_sub(now.saturating_duration_since(start)),
        }
    }

    /// Records `n` receipts owed in the current window.
    pub fn spend(&mut self, n: u64) {
        self.used = self.used.saturating_add(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_allows_its_budget_then_resets() {
        let t0 = Instant::now();
        let len = Duration::from_secs(10);
        let mut w = ReceiptWindow::default();
        assert_eq!(w.allowance(t0, 5, len).receipts, 5);
        w.spend(3);
        let a = w.allowance(t0 + Duration::from_secs(4), 5, len);
        assert_eq!(a.receipts, 2);
        assert_eq!(a.resets_in, Duration::from_secs(6));
        w.spend(2);
        assert_eq!(w.allowance(t0 + Duration::from_secs(9), 5, len).receipts, 0);
        let a = w.allowance(t0 + Duration::from_secs(10), 5, len);
        assert_eq!((a.receipts, a.resets_in), (5, len), "a new window");
    }

    #[test]
    fn zero_means_no_limit() {
        let mut w = ReceiptWindow::default();
        w.spend(u64::MAX);
        let a = w.allowance(Instant::now(), 0, Duration::from_secs(60));
        assert_eq!(a.receipts, u64::MAX);
    }

    #[test]
    fn a_zero_window_is_one_second() {
        let t0 = Instant::now();
        let mut w = ReceiptWindow::default();
        w.allowance(t0, 1, Duration::ZERO);
        w.spend(1);
        let a = w.allowance(t0 + Duration::from_millis(500), 1, Duration::ZERO);
        assert_eq!(a.receipts, 0);
        assert_eq!(a.resets_in, Duration::from_millis(500));
    }
}
