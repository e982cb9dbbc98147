//! The addresses of one peer's node, tried in turn.
//!
//! A party may run several replicas of its node (the same keys, other
//! addresses). Only the one holding its sequencer lease answers the peer
//! protocol; the others answer 503 with `{"error": …, "holder": URL|null}`.
//! Every request this node sends a peer (pushes, cosignature requests, call
//! signals) goes to the address in use — the last one that answered — and,
//! on a connection failure, a timeout or a 503, to the next listed address
//! in order (wrapping round), each address at most once per request. A 503
//! whose `holder` is one of the listed addresses, not yet tried for this
//! request, sends the request there next; an address that is not listed is
//! never tried. When every address failed, the request fails, and the
//! caller's backoff (the outbox's) applies before the next round.
//!
//! Any other answer (2xx, 409, 422, 429, …) comes from the node that holds
//! the peer protocol, and is returned as it is: it is not a reason to try
//! another address.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use hotline_proto::party::Party;
use jiff::Timestamp;
use rustls::ClientConfig;
use serde::Serialize;

use crate::tls::{PeerClient, TlsError, peer_address};

/// Most addresses one peer may be pinned with.
pub const MAX_PEER_URLS: usize = 8;

/// Checks a peer's addresses as `hotline peer add` and `POST /v1/peers`
/// take them: at most [`MAX_PEER_URLS`], each `https://HOST[:PORT]`, none
/// twice (two spellings of one host and port are the same address).
/// Returns each address in its one form ([`peer_address`]).
///
/// # Errors
///
/// A sentence saying which address is wrong and why.
pub fn check_urls(urls: &[&str]) -> Result<Vec<String>, String> {
    if urls.len() > MAX_PEER_URLS {
        return Err(format!(
            "{} addresses given; a peer has at most {MAX_PEER_URLS} (one per replica of its node)",
            urls.len()
        ));
    }
    let mut seen: Vec<String> = Vec::with_capacity(urls.len());
    for (i, u) in urls.iter().enumerate() {
        let key = peer_address(u).map_err(|e| e.to_string())?;
        if let Some(j) = seen.iter().position(|k| *k == key) {
            return Err(format!(
                "{key} is listed twice ({:?} and {:?}, addresses {} and {}); give each address once",
                urls[j],
                u,
                j + 1,
                i + 1
            ));
        }
        seen.push(key);
    }
    Ok(seen)
}

/// One address of a peer, as `hotline status` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct AddressStatus {
    /// The address as pinned.
    pub url: String,
    /// Whether requests go here first (the last address that answered, or
    /// the first listed before any did).
    pub in_use: bool,
    /// When it last answered as the peer's node, since this node started.
    pub last_ok: Option<Timestamp>,
    /// Why it last failed (connection, timeout, 503), if it failed since
    /// it last answered.
    pub last_error: Option<String>,
    /// When it last failed.
    pub last_error_at: Option<Timestamp>,
}

/// Why a request reached no address of a peer.
#[derive(Debug, thiserror::Error)]
pub enum Unreached {
    /// A peer with one address: the error of that address.
    #[error(transparent)]
    One(TlsError),
    /// A peer with several: what each address did, in the order tried.
    #[error("no address of {party} answered as its node: {tried}")]
    Every {
        /// The peer.
        party: Party,
        /// Each address's failure, in the order tried.
        tried: String,
    },
}

#[derive(Clone, Default)]
struct Seen {
    last_ok: Option<Timestamp>,
    last_error: Option<(Timestamp, String)>,
}

struct Address {
    /// As pinned.
    given: String,
    /// In its one form, to match a 503's `holder`.
    key: String,
    client: PeerClient,
    seen: Mutex<Seen>,
}

impl Address {
    fn note(&self, f: impl FnOnce(&mut Seen)) {
        f(&mut self.seen.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

/// The addresses of one peer's node, with the one in use.
pub struct Addresses {
    party: Party,
    list: Vec<Address>,
    current: AtomicUsize,
}

impl std::fmt::Debug for Addresses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Addresses")
            .field("party", &self.party)
            .field("urls", &self.urls())
            .field("in_use", &self.in_use())
            .finish()
    }
}

/// The next address to try after `at`, given which were tried for this
/// request: the 503's `holder` if it is listed and untried, else the next
/// untried one in order after `at`, wrapping round; `None` once every
/// address was tried.
fn next_address(tried: &[bool], at: usize, holder: Option<usize>) -> Option<usize> {
    let n = tried.len();
    if let Some(h) = holder
        && h < n
        && !tried[h]
    {
        return Some(h);
    }
    (1..n).map(|d| (at + d) % n).find(|&j| !tried[j])
}

impl Addresses {
    /// The addresses `urls` (checked by [`check_urls`]; at least one), each
    /// with a client using the pinned `config`, each request within
    /// `timeout`.
    ///
    /// # Errors
    ///
    /// What [`check_urls`] or [`PeerClient::new`] refuse, in a sentence.
    pub fn new(
        party: Party,
        urls: &[&str],
        config: Arc<ClientConfig>,
        timeout: Duration,
    ) -> Result<Self, String> {
        let keys = check_urls(urls)?;
        if urls.is_empty() {
            return Err(format!("{party} has no address"));
        }
        let mut list = Vec::with_capacity(urls.len());
        for (u, key) in urls.iter().zip(keys) {
            list.push(Address {
                given: (*u).to_owned(),
                key,
                client: PeerClient::new(u, config.clone(), timeout).map_err(|e| e.to_string())?,
                seen: Mutex::new(Seen::default()),
            });
        }
        Ok(Self {
            party,
            list,
            current: AtomicUsize::new(0),
        })
    }

    /// Every address, in order, as pinned.
    pub fn urls(&self) -> Vec<&str> {
        self.list.iter().map(|a| a.given.as_str()).collect()
    }

    /// The address requests go to first.
    pub fn in_use(&self) -> &str {
        &self.list[self.current.load(Ordering::Relaxed) % self.list.len()].given
    }

    /// Each address with what happened there last.
    pub fn status(&self) -> Vec<AddressStatus> {
        let current = self.current.load(Ordering::Relaxed) % self.list.len();
        self.list
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let s = a
                    .seen
                    .lock()
                    .map_or_else(|e| e.into_inner().clone(), |s| s.clone());
                AddressStatus {
                    url: a.given.clone(),
                    in_use: i == current,
                    last_ok: s.last_ok,
                    last_error_at: s.last_error.as_ref().map(|(t, _)| *t),
                    last_error: s.last_error.map(|(_, e)| e),
                }
            })
            .collect()
    }

    /// Sends one request (as [`PeerClient::request`]) to the address in
    /// use, then to the others in turn on a connection failure, a timeout
    /// or a 503 (see the module's text). The first answer that is not 503
    /// is returned, and its address becomes the one in use.
    ///
    /// # Errors
    ///
    /// [`Unreached`] when no address answered. A peer with one address that
    /// answers 503 has that answer returned, as any other status.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(StatusCode, HeaderMap, Bytes), Unreached> {
        let n = self.list.len();
        let mut tried = vec![false; n];
        let mut at = self.current.load(Ordering::Relaxed) % n;
        let mut failures: Vec<String> = Vec::new();
        let mut last: Result<(StatusCode, HeaderMap, Bytes), TlsError>;
        loop {
            tried[at] = true;
            let a = &self.list[at];
            let now = crate::clock::now;
            let mut holder = None;
            match a
                .client
                .request(method.clone(), path, content_type, body.clone())
                .await
            {
                Ok((status, headers, bytes)) if status == StatusCode::SERVICE_UNAVAILABLE => {
                    let (why, named) = not_the_holder(&bytes);
                    holder = named
                        .and_then(|h| peer_address(&h).ok())
                        .and_then(|h| self.list.iter().position(|b| b.key == h));
                    let msg = format!("{} answered 503: {why}", a.given);
                    a.note(|s| s.last_error = Some((now(), msg.clone())));
                    failures.push(msg);
                    last = Ok((status, headers, bytes));
                }
                Ok(answer) => {
                    a.note(|s| {
                        s.last_ok = Some(now());
                        s.last_error = None;
                    });
                    self.current.store(at, Ordering::Relaxed);
                    return Ok(answer);
                }
                Err(e) => {
                    let msg = e.to_string();
                    a.note(|s| s.last_error = Some((now(), msg.clone())));
                    failures.push(msg);
                    last = Err(e);
                }
            }
            match next_address(&tried, at, holder) {
                Some(j) => {
                    if n > 1 {
                        tracing::info!(peer = %self.party, from = %a.given, to = %self.list[j].given, "trying the peer's next address");
                    }
                    at = j;
                }
                None => break,
            }
        }
        match last {
            Ok(answer) if n == 1 => Ok(answer),
            Err(e) if n == 1 => Err(Unreached::One(e)),
            _ => Err(Unreached::Every {
                party: self.party.clone(),
                tried: failures.join("; "),
            }),
        }
    }
}

/// What a 503 says: its `error` (or its text), and the `holder` it names.
fn not_the_holder(body: &[u8]) -> (String, Option<String>) {
    let text = String::from_utf8_lossy(body);
    let clip = |t: &str| t.chars().take(300).collect::<String>();
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => (
            v["error"].as_str().map_or_else(|| clip(text.trim()), clip),
            v["holder"].as_str().map(str::to_owned),
        ),
        Err(_) => (clip(text.trim()), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_is_tried_once_in_order_from_the_one_in_use() {
        // From the second of four: third, fourth, first, then none.
        let mut tried = vec![false, true, false, false];
        let mut order = vec![];
        let mut at = 1;
        while let Some(j) = next_address(&tried, at, None) {
            order.push(j);
            tried[j] = true;
            at = j;
        }
        assert_eq!(order, [2, 3, 0]);
        assert_eq!(next_address(&[true], 0, None), None);
    }

    #[test]
    fn a_listed_untried_holder_goes_first_and_a_tried_one_does_not() {
        assert_eq!(next_address(&[true, false, false], 0, Some(2)), Some(2));
        assert_eq!(next_address(&[true, false, true], 2, Some(0)), Some(1));
        // A holder index beyond the list (never produced, but harmless).
        assert_eq!(next_address(&[true, false], 0, Some(9)), Some(1));
    }

    #[test]
    fn a_503_body_gives_its_error_and_holder() {
        let (why, h) = not_the_holder(
            br#"{"error":"this replica is not the lease holder","holder":"https://b:2"}"#,
        );
        assert_eq!(why, "this replica is not the lease holder");
        assert_eq!(h.as_deref(), Some("https://b:2"));
        let (why, h) = not_the_holder(br#"{"error":"draining","holder":null}"#);
        assert_eq!((why.as_str(), h), ("draining", None));
        let (why, h) = not_the_holder(b"Service Unavailable\n");
        assert_eq!((why.as_str(), h), ("Service Unavailable", None));
    }

    #[test]
    fn urls_are_checked_for_form_duplicates_and_count() {
        assert_eq!(
            check_urls(&["https://a.example:7701", "https://[::1]:7702/"]).unwrap(),
            ["https://a.example:7701", "https://[::1]:7702"]
        );
        let e = check_urls(&["https://A.example:443", "https://a.example/"]).unwrap_err();
        assert!(e.contains("https://a.example:443 is listed twice"), "{e}");
        let e = check_urls(&["ru.example:7701"]).unwrap_err();
        assert!(e.contains("is not a peer address"), "{e}");
        let e = check_urls(&["http://ru.example:7701"]).unwrap_err();
        assert!(e.contains("the scheme must be https"), "{e}");
        let many: Vec<String> = (0..9).map(|i| format!("https://h{i}:1")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let e = check_urls(&many).unwrap_err();
        assert!(
            e.starts_with("9 addresses given; a peer has at most 8"),
            "{e}"
        );
        assert!(check_urls(&many[..8]).is_ok());
    }
}
