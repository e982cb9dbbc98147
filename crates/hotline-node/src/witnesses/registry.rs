//! The C2SP witnesses a node submits to, and what it last heard from each.

use std::sync::{Arc, Mutex, OnceLock, RwLock};

use hotline_proto::keys::{ALG_COSIGNATURE_V1, NoteVerifier};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::http::WitnessClient;
use crate::dir::WitnessConfig;
use crate::metrics::{Metrics, WitnessLabel};

/// One configured witness.
pub struct External {
    /// Its cosigner key's name: how status, metrics and bundles name it.
    pub name: String,
    /// Its submission prefix, without a trailing `/`.
    pub url: String,
    /// Its pinned `cosignature/v1` key.
    pub key: NoteVerifier,
    state: Mutex<WitnessStatus>,
    /// Asks the loop for a round now (a new checkpoint, a test).
    pub wake: tokio::sync::Notify,
}

/// What `hotline status` shows of one witness.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct WitnessStatus {
    /// Its key's name.
    pub name: String,
    /// Its submission prefix.
    pub url: String,
    /// Its verifier key (vkey).
    pub key: String,
    /// The largest tree size it cosigned, as the store holds it.
    pub cosigned_size: Option<u64>,
    /// Its time on that cosignature (RFC 3339, its clock).
    pub cosigned_at: Option<String>,
    /// When this node last asked it.
    pub last_attempt: Option<String>,
    /// Why the last round failed; `None` once a round succeeds.
    pub last_error: Option<String>,
    /// Rounds failed in a row.
    pub failing_rounds: u64,
    /// Rounds failed since the node started.
    pub failures: u64,
    /// Cosignatures taken from it since the node started.
    pub cosignatures: u64,
}

impl External {
    /// A witness from a checked entry, with the last cosignature the store
    /// holds from it (`last`: size, witness time).
    pub fn new(url: &str, key: NoteVerifier, last: Option<(u64, u64)>) -> Self {
        let name = key.name().to_owned();
        let url = url.trim_end_matches('/').to_owned();
        Self {
            state: Mutex::new(WitnessStatus {
                name: name.clone(),
                url: url.clone(),
                key: key.to_vkey(),
                cosigned_size: last.map(|(s, _)| s),
                cosigned_at: last.and_then(|(_, t)| fmt_secs(t)),
                ..WitnessStatus::default()
            }),
            name,
            url,
            key,
            wake: tokio::sync::Notify::new(),
        }
    }

    /// What status shows now.
    pub fn status(&self) -> WitnessStatus {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Takes the last cosignature the store holds from it (another replica
    /// may have taken newer ones while this one followed).
    pub fn reload(&self, last: Option<(u64, u64)>) {
        if let Some((size, time)) = last {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if s.cosigned_size.is_none_or(|c| c < size) {
                s.cosigned_size = Some(size);
                s.cosigned_at = fmt_secs(time);
            }
        }
    }

    /// The size it last cosigned: the `old` of the next request.
    pub fn cosigned_size(&self) -> u64 {
        self.status().cosigned_size.unwrap_or(0)
    }

    fn label(&self) -> WitnessLabel {
        WitnessLabel {
            witness: self.name.clone(),
        }
    }

    /// Notes a cosignature of `size` at the witness's `time`.
    pub fn cosigned(&self, metrics: &Metrics, size: u64, time: u64) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.last_attempt = fmt_secs(now());
        s.cosigned_size = Some(size);
        s.cosigned_at = fmt_secs(time);
        s.last_error = None;
        s.failing_rounds = 0;
        s.cosignatures += 1;
        let l = self.label();
        metrics.witness_cosignatures.get_or_create(&l).inc();
        metrics
            .witness_cosigned_size
            .get_or_create(&l)
            .set(i64::try_from(size).unwrap_or(i64::MAX));
        metrics
            .witness_cosigned_time
            .get_or_create(&l)
            .set(i64::try_from(time).unwrap_or(i64::MAX));
        metrics.witness_failing.get_or_create(&l).set(0);
    }

    /// Notes a failed round.
    pub fn failed(&self, metrics: &Metrics, why: &str) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.last_attempt = fmt_secs(now());
        s.last_error = Some(why.to_owned());
        s.failing_rounds += 1;
        s.failures += 1;
        let l = self.label();
        metrics.witness_failures.get_or_create(&l).inc();
        metrics
            .witness_failing
            .get_or_create(&l)
            .set(i64::try_from(s.failing_rounds).unwrap_or(i64::MAX));
    }
}

fn now() -> u64 {
    u64::try_from(crate::clock::now().as_second()).unwrap_or(0)
}

fn fmt_secs(t: u64) -> Option<String> {
    Timestamp::from_second(i64::try_from(t).ok()?)
        .ok()
        .map(|t| t.to_string())
}

/// Checks one `[[witnesses]]` entry: an `http(s)://` URL, and a
/// `cosignature/v1` key whose name is no hotline party's witness name.
///
/// A key of type 0x01 signs a checkpoint without a time, so it proves no
/// moment and hotline counts none. A name of the form `…/PARTY/witness`
/// would be read by every verifier as that party's own witness (see
/// `hotline_proto::bundle::witness_party`): a stranger's cosignature would
/// then count as a party's word.
pub fn check_entry(c: &WitnessConfig) -> Result<NoteVerifier, String> {
    let url = c.url.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| {
            format!(
                "witness URL {url:?} is not http:// or https://; give the witness's submission prefix, e.g. https://witness.example.org"
            )
        })?;
    let uri: hyper::Uri = url
        .parse()
        .map_err(|e| format!("witness URL {url:?} does not parse: {e}"))?;
    if uri.authority().is_none() || rest.starts_with('/') {
        return Err(format!("witness URL {url:?} names no host"));
    }
    if uri.query().is_some() || url.contains('#') {
        return Err(format!(
            "witness URL {url:?} has a query or fragment; give the submission prefix alone (the node adds /add-checkpoint)"
        ));
    }
    let key = NoteVerifier::from_vkey(c.key.trim())
        .map_err(|e| format!("witness key {:?}: {e}", c.key.trim()))?;
    if key.alg() != ALG_COSIGNATURE_V1 {
        return Err(format!(
            "witness key {} is of type 0x{:02x}, which signs checkpoints without a time; hotline counts cosignature/v1 keys (type 0x04, C2SP tlog-cosignature) only",
            key.name(),
            key.alg()
        ));
    }
    if let Some(p) = hotline_proto::bundle::witness_party(key.name()) {
        return Err(format!(
            "witness key name {} is the form of party {p}'s own witness (…/{p}/witness); every verifier would take its cosignatures for {p}'s word. A C2SP witness needs a name of its own (e.g. witness.example.org/w1)",
            key.name()
        ));
    }
    Ok(key)
}

/// The witnesses of a node, and the client they are asked over.
#[derive(Default)]
pub struct Witnesses {
    list: RwLock<Vec<Arc<External>>>,
    /// Shared by every witness's loop; made at the first round, so that a
    /// CLI command that opens the node does not read the system's CA roots.
    client: OnceLock<WitnessClient>,
}

impl Witnesses {
    /// The client witnesses are asked over.
    pub fn client(&self) -> &WitnessClient {
        self.client.get_or_init(WitnessClient::new)
    }

    /// Every witness.
    pub fn all(&self) -> Vec<Arc<External>> {
        self.list.read().map(|l| l.clone()).unwrap_or_default()
    }

    /// Adds one, refusing a second witness of the same name or URL.
    pub fn insert(&self, w: Arc<External>) -> Result<(), String> {
        let mut l = self.list.write().unwrap_or_else(|e| e.into_inner());
        if let Some(o) = l.iter().find(|o| o.name == w.name || o.url == w.url) {
            return Err(format!(
                "witness {} at {} is already configured; remove it first (`hotline witness remove {}`)",
                o.name, o.url, o.name
            ));
        }
        l.push(w);
        Ok(())
    }

    /// Removes the witness named `which` (its key name or URL).
    pub fn remove(&self, which: &str) -> Option<Arc<External>> {
        let mut l = self.list.write().unwrap_or_else(|e| e.into_inner());
        let which = which.trim_end_matches('/');
        let at = l.iter().position(|o| o.name == which || o.url == which)?;
        Some(l.remove(at))
    }

    /// Whether `w` is still configured (a removed witness's loop stops).
    pub fn is_current(&self, w: &Arc<External>) -> bool {
        self.all().iter().any(|o| Arc::ptr_eq(o, w))
    }

    /// Status of every witness.
    pub fn status(&self) -> Vec<WitnessStatus> {
        self.all().iter().map(|w| w.status()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_proto::keys::{ALG_ED25519, NoteKey, os_rng};

    fn entry(url: &str, name: &str, alg: u8) -> WitnessConfig {
        WitnessConfig {
            url: url.into(),
            key: NoteKey::generate(name, alg, &mut os_rng())
                .unwrap()
                .verifier()
                .to_vkey(),
        }
    }

    #[test]
    fn a_good_entry_is_taken() {
        let k = check_entry(&entry(
            "https://w.example/sub",
            "w.example/1",
            ALG_COSIGNATURE_V1,
        ));
        assert_eq!(k.unwrap().name(), "w.example/1");
        assert!(check_entry(&entry("http://127.0.0.1:7380", "w", ALG_COSIGNATURE_V1)).is_ok());
    }

    #[test]
    fn bad_entries_say_what_is_wrong() {
        let c = ALG_COSIGNATURE_V1;
        for (e, words) in [
            (entry("ftp://w.example", "w", c), "not http:// or https://"),
            (entry("https:///x", "w", c), "https:///x"),
            (entry("https://w.example/?a=1", "w", c), "query or fragment"),
            (entry("https://w.example", "w", ALG_ED25519), "type 0x01"),
            (
                entry("https://w.example", "hotline/ru/witness", c),
                "party ru's own witness",
            ),
            (
                WitnessConfig {
                    url: "https://w.example".into(),
                    key: "not a key".into(),
                },
                "witness key",
            ),
        ] {
            let err = check_entry(&e).unwrap_err();
            assert!(err.contains(words), "{err:?} lacks {words:?}");
        }
    }

    #[test]
    fn a_takeover_starts_from_the_newest_size_on_record() {
        let k = NoteKey::generate("w", ALG_COSIGNATURE_V1, &mut os_rng()).unwrap();
        let w = External::new("https://w.example", k.verifier(), Some((3, 1_700_000_000)));
        w.reload(Some((7, 1_700_000_100)));
        assert_eq!(w.cosigned_size(), 7);
        w.reload(Some((5, 1_700_000_200)));
        w.reload(None);
        assert_eq!(w.cosigned_size(), 7, "never back to an older size");
        assert_eq!(
            w.status().cosigned_at.as_deref(),
            Some("2023-11-14T22:15:00Z")
        );
    }

    #[test]
    fn a_name_or_url_is_configured_once() {
        let w = Witnesses::default();
        let k = |n: &str| {
            NoteKey::generate(n, ALG_COSIGNATURE_V1, &mut os_rng())
                .unwrap()
                .verifier()
        };
        w.insert(Arc::new(External::new("https://a.example/", k("a"), None)))
            .unwrap();
        assert!(
            w.insert(Arc::new(External::new("https://b.example", k("a"), None)))
                .is_err()
        );
        assert!(
            w.insert(Arc::new(External::new("https://a.example", k("b"), None)))
                .is_err()
        );
        assert_eq!(w.all().len(), 1);
        assert_eq!(w.all()[0].url, "https://a.example");
        assert!(w.remove("https://a.example/").is_some());
        assert!(w.all().is_empty());
    }
}
