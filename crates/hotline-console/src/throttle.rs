//! Sign-in throttling: per client address, and for the whole node.
//!
//! A limit per operator name would let anyone who can reach the console
//! lock the duty officer out by typing wrong passwords under their name. A
//! limit per client address instead slows only whoever types them: after
//! `[console] login_attempts` attempts an address waits 5 s before the next,
//! then twice as long after each further attempt, up to `login_wait_secs`.
//! An attempt is charged before its password is checked (so a burst of
//! concurrent attempts cannot slip in before the first failure is counted).
//! One that succeeds is refunded and ends the address's wait, but its count
//! stays: whoever shares the address signs in again at once, while the next
//! wrong password waits as long as before (an insider cannot reset the
//! count by signing in as themself between guesses). An address quiet for `login_wait_secs`
//! after its last wait is forgotten; IPv6 addresses count per /64, which is
//! what one host can cheaply change within.
//!
//! Each password check is one Argon2id run holding 19 MiB, so however many
//! addresses an attacker has, at most `login_checks` run at once; a few more
//! attempts wait up to two seconds for their turn and the rest are answered
//! 429 at once, without running Argon2. The checks run on `login_checks`
//! threads of their own: the allocator keeps freed memory per thread, so
//! checks spread over the blocking pool's hundreds of threads would each
//! leave 19 MiB behind. Signed-in operators are never affected: sessions are
//! not sign-ins.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::ConsoleConfig;

/// The first wait once an address has used its attempts.
const FIRST_WAIT: Duration = Duration::from_secs(5);
/// Most addresses remembered: a flood from more addresses than this pushes
/// out those whose wait ends soonest, never the table's memory bound.
const MAX_ADDRESSES: usize = 10_000;
/// How long an attempt may wait for a password check to be free.
const QUEUE_WAIT: Duration = Duration::from_secs(2);
/// Attempts that may wait for a check, per check.
const QUEUE_PER_CHECK: usize = 8;

/// Why an attempt is not checked now, and when to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// This address used its attempts.
    Address(Duration),
    /// The node is checking as many passwords as it may.
    Busy(Duration),
}

impl Wait {
    /// Whole seconds to wait, at least one (for `Retry-After`).
    pub fn secs(self) -> u64 {
        let (Wait::Address(d) | Wait::Busy(d)) = self;
        d.as_secs() + u64::from(d.subsec_nanos() > 0)
    }
}

struct Entry {
    attempts: u32,
    /// No attempt before this.
    until: Instant,
}

/// One attempt charged to an address, refunded if it succeeds.
pub(crate) struct Charge(Key);

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key(IpAddr);

impl Key {
    fn of(ip: Option<IpAddr>) -> Self {
        Key(match ip {
            Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let s = v6.segments();
                    IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
                }
            },
            Some(v4) => v4,
            // No peer address (not a TCP connection): all such clients share one.
            None => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        })
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// The threads that check passwords, as many as may run at once.
struct Checkers(Mutex<std::sync::mpsc::Sender<Job>>);

impl Checkers {
    fn start(n: usize) -> Self {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..n {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("login-check-{i}"))
                .spawn(move || {
                    loop {
                        let job = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            // The console is gone.
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password-checking thread");
            }
        }
        Checkers(Mutex::new(tx))
    }
}

/// The threads that check passwords have stopped (one panicked, or the
/// console is shutting down): no sign-in can be checked until a restart.
#[derive(Debug, thiserror::Error)]
#[error("the password-checking threads are gone; restart the node")]
pub(crate) struct CheckersGone;

/// A turn to check one password (see [`Throttle::check`]).
pub(crate) struct Turn {
    permit: OwnedSemaphorePermit,
    checkers: Arc<Checkers>,
}

impl Turn {
    /// Runs `f` (which checks a password) on a checking thread.
    pub async fn run<T: Send + 'static>(
        self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, CheckersGone> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let permit = self.permit;
        let job: Job = Box::new(move || {
            let r = f();
            drop(permit);
            let _ = tx.send(r);
        });
        let sent = self
            .checkers
            .0
            .lock()
            .map_err(|_| ())
            .and_then(|s| s.send(job).map_err(|_| ()));
        sent.map_err(|()| CheckersGone)?;
        rx.await.map_err(|_| CheckersGone)
    }
}

/// The console's sign-in throttle. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Throttle {
    addresses: Arc<Mutex<HashMap<Key, Entry>>>,
    checks: Arc<Semaphore>,
    checkers: Arc<Checkers>,
    waiting: Arc<AtomicUsize>,
    queue: usize,
    attempts: u32,
    max_wait: Duration,
}

impl Throttle {
    pub fn new(policy: &ConsoleConfig) -> Self {
        let checks = usize::try_from(policy.login_checks.max(1)).unwrap_or(1);
        Self {
            addresses: Arc::default(),
            checks: Arc::new(Semaphore::new(checks)),
            checkers: Arc::new(Checkers::start(checks)),
            waiting: Arc::default(),
            queue: checks.saturating_mul(QUEUE_PER_CHECK),
            attempts: policy.login_attempts,
            max_wait: Duration::from_secs(policy.login_wait_secs).max(FIRST_WAIT),
        }
    }

    fn wait_after(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(self.attempts).min(20);
        FIRST_WAIT.saturating_mul(1 << doublings).min(self.max_wait)
    }

    fn forgotten(&self, e: &Entry, now: Instant) -> bool {
        now >= e.until + self.max_wait
    }

    /// Charges one attempt to the address `ip` at `now`, or says how long
    /// it must wait.
    pub fn admit(&self, ip: Option<IpAddr>, now: Instant) -> Result<Charge, Wait> {
        let key = Key::of(ip);
        if self.attempts == 0 {
            return Ok(Charge(key));
        }
        let mut map = self
            .addresses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= MAX_ADDRESSES && !map.contains_key(&key) {
            map.retain(|_, e| !self.forgotten(e, now));
            if map.len() >= MAX_ADDRESSES
                && let Some(k) = map.iter().min_by_key(|(_, e)| e.until).map(|(k, _)| *k)
            {
                map.remove(&k);
            }
        }
        let e = map.entry(key).or_insert(Entry {
            attempts: 0,
            until: now,
        });
        if self.forgotten(e, now) {
            *e = Entry {
                attempts: 0,
                until: now,
            };
        }
        if now < e.until {
            return Err(Wait::Address(e.until - now));
        }
        e.attempts = e.attempts.saturating_add(1);
        e.until = if e.attempts >= self.attempts {
            now + self.wait_after(e.attempts)
        } else {
            now
        };
        Ok(Charge(key))
    }

    /// A successful sign-in: its attempt is not held against the address,
    /// and the address need not wait for the next.
    pub fn refund(&self, c: Charge, now: Instant) {
        let mut map = self
            .addresses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(e) = map.get_mut(&c.0) {
            e.attempts = e.attempts.saturating_sub(1);
            e.until = now;
        }
    }

    /// A turn to check one password: at once, after a short wait, or
    /// refused when too many are already waiting.
    pub async fn check(&self) -> Result<Turn, Wait> {
        let turn = |permit| Turn {
            permit,
            checkers: self.checkers.clone(),
        };
        if let Ok(p) = self.checks.clone().try_acquire_owned() {
            return Ok(turn(p));
        }
        let busy = Wait::Busy(Duration::from_secs(1));
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(busy);
        }
        let r = tokio::time::timeout(QUEUE_WAIT, self.checks.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        match r {
            Ok(Ok(p)) => Ok(turn(p)),
            _ => Err(busy),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(attempts: u32, wait: u64) -> Throttle {
        Throttle::new(&ConsoleConfig {
            login_attempts: attempts,
            login_wait_secs: wait,
            login_checks: 1,
            ..ConsoleConfig::default()
        })
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn an_address_waits_longer_after_each_attempt_and_others_do_not() {
        let t = throttle(3, 60);
        let t0 = Instant::now();
        for _ in 0..3 {
            t.admit(ip("10.0.0.1"), t0).unwrap();
        }
        assert_eq!(
            t.admit(ip("10.0.0.1"), t0).err(),
            Some(Wait::Address(FIRST_WAIT))
        );
        // Another address is not affected.
        t.admit(ip("10.0.0.2"), t0).unwrap();
        // After the wait, one attempt, then twice as long, capped.
        let t1 = t0 + FIRST_WAIT;
        t.admit(ip("10.0.0.1"), t1).unwrap();
        assert_eq!(
            t.admit(ip("10.0.0.1"), t1).err(),
            Some(Wait::Address(Duration::from_secs(10)))
        );
        let mut at = t1 + Duration::from_secs(10);
        for want in [20, 40, 60, 60] {
            t.admit(ip("10.0.0.1"), at).unwrap();
            let w = t.admit(ip("10.0.0.1"), at).err();
            assert_eq!(w, Some(Wait::Address(Duration::from_secs(want))));
            at += Duration::from_secs(want);
        }
        // Quiet for the longest wait after the last one: forgotten.
        let later = at + Duration::from_secs(60);
        for _ in 0..3 {
            t.admit(ip("10.0.0.1"), later).unwrap();
        }
    }

    #[test]
    fn a_success_is_refunded() {
        let t = throttle(2, 60);
        let t0 = Instant::now();
        t.admit(ip("10.0.0.1"), t0).unwrap();
        let c = t.admit(ip("10.0.0.1"), t0).unwrap();
        t.refund(c, t0);
        t.admit(ip("10.0.0.1"), t0).unwrap();
        assert!(t.admit(ip("10.0.0.1"), t0).is_err());
        // Past the limit, a success ends the wait; each further success does
        // too, but a failure waits as long as the count says.
        let t1 = t0 + Duration::from_secs(5);
        for _ in 0..3 {
            let c = t.admit(ip("10.0.0.1"), t1).unwrap();
            t.refund(c, t1);
        }
        t.admit(ip("10.0.0.1"), t1).unwrap();
        assert_eq!(
            t.admit(ip("10.0.0.1"), t1).err(),
            Some(Wait::Address(Duration::from_secs(10)))
        );
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_v4_as_v4() {
        let t = throttle(1, 60);
        let t0 = Instant::now();
        t.admit(ip("2001:db8:1:2::1"), t0).unwrap();
        assert!(t.admit(ip("2001:db8:1:2:ffff::9"), t0).is_err());
        t.admit(ip("2001:db8:1:3::1"), t0).unwrap();
        t.admit(ip("192.0.2.1"), t0).unwrap();
        assert!(t.admit(ip("::ffff:192.0.2.1"), t0).is_err());
    }

    #[test]
    fn the_table_is_bounded() {
        let t = throttle(1, 60);
        let t0 = Instant::now();
        for i in 0..(MAX_ADDRESSES as u32 + 100) {
            let a = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            t.admit(Some(a), t0).unwrap();
        }
        assert!(t.addresses.lock().unwrap().len() <= MAX_ADDRESSES);
    }

    #[test]
    fn no_limit_per_address_when_zero() {
        let t = throttle(0, 60);
        for _ in 0..100 {
            t.admit(ip("10.0.0.1"), Instant::now()).unwrap();
        }
    }

    #[tokio::test]
    async fn checks_are_bounded_and_the_rest_told_to_wait() {
        let t = throttle(5, 60);
        let held = t.check().await.unwrap();
        // One check at once, eight may wait: the ninth waiter is refused at once.
        let waiters: Vec<_> = (0..QUEUE_PER_CHECK)
            .map(|_| {
                let t = t.clone();
                tokio::spawn(async move { t.check().await.map(drop) })
            })
            .collect();
        tokio::task::yield_now().await;
        while t.waiting.load(Ordering::Acquire) < QUEUE_PER_CHECK {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            t.check().await.err(),
            Some(Wait::Busy(Duration::from_secs(1)))
        );
        drop(held);
        for w in waiters {
            w.await.unwrap().unwrap();
        }
        // A turn runs its check on a checking thread.
        let turn = t.check().await.unwrap();
        let name = turn
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("login-check-0"));
    }
}
