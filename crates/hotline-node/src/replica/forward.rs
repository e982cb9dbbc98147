//! Forwarding drafts from a replica to the lease holder over the pinned
//! peer link. Replicas are copies of one party directory, so they share its
//! TLS identity: each pins the other by that one key, and the holder takes
//! a forwarded draft only from a client presenting it. The draft travels
//! as it is, sealed body included: the holder assigns its place and signs
//! with its own copy of the office's key, exactly as for a local draft.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hotline_proto::agreement::Terms;
use hotline_proto::b64;
use hotline_proto::entry::{KeyAnnouncement, Kind, Ref, SignedEntry};
use hotline_proto::party::Office;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::federation::Link;
use crate::offices::Signing;
use crate::sequencer::{AppendError, Appended, Draft, Forward, SealedBody, Signer};
use crate::tls::{PeerClient, PeerParty, TlsIdentity};

/// The route on the holder's peer link.
pub const PATH: &str = "/fed/v1/replica/append";

/// Who signs, by name: the holder signs with its own copy of the key.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum SignerWire {
    Party,
    Office(Office),
}

#[derive(Serialize, Deserialize)]
struct BodyWire {
    sealed: String,
    commitment: String,
}

/// A [`Draft`] on the wire.
#[derive(Serialize, Deserialize)]
struct DraftWire {
    kind: Kind,
    signer: SignerWire,
    to: Option<Office>,
    agreement: Option<String>,
    refs: Vec<Ref>,
    body: Option<BodyWire>,
    key: Option<KeyAnnouncement>,
    status: Option<String>,
    terms: Option<Terms>,
    time: Option<Timestamp>,
    digest: Option<String>,
}

/// What the holder appended: its index and exact leaf.
#[derive(Serialize, Deserialize)]
struct AppendedWire {
    index: u64,
    leaf: String,
}

impl DraftWire {
    fn of(d: Draft) -> Self {
        Self {
            kind: d.kind,
            signer: match &d.signer {
                Signer::Party(..) => SignerWire::Party,
                Signer::Office(k) => SignerWire::Office(k.office().clone()),
            },
            to: d.to,
            agreement: d.agreement,
            refs: d.refs,
            body: d.body.map(|b| BodyWire {
                sealed: b64::encode(b.bytes()),
                commitment: b64::encode(b.commitment()),
            }),
            key: d.key,
            status: d.status,
            terms: d.terms,
            time: d.time,
            digest: d.digest,
        }
    }

    /// The draft as the holder appends it, signed by its own keys.
    fn draft(self, link: &Link) -> Result<Draft, String> {
        let signer = match self.signer {
            SignerWire::Party => Signer::Party(link.signs.log.clone(), link.signs.party.clone()),
            SignerWire::Office(o) => {
                if o.party() != link.reads.party {
                    return Err(format!("{o} is not an office of {}", link.reads.party));
                }
                match link.signs.offices.signing(&o, None) {
                    Signing::Key(k) => Signer::Office(k),
                    _ => {
                        return Err(format!(
                            "the replica holding the lease holds no key for {o}; copy DIR/keys/offices to every replica"
                        ));
                    }
                }
            }
        };
        let body = match self.body {
            None => None,
            Some(b) => {
                let bytes = b64::decode(&b.sealed).ok_or("the sealed body is not base64")?;
                let commitment: [u8; 32] = b64::decode(&b.commitment)
                    .and_then(|c| c.try_into().ok())
                    .ok_or("the body commitment is not 32 bytes of base64")?;
                Some(SealedBody::new(bytes, commitment))
            }
        };
        Ok(Draft {
            kind: self.kind,
            signer,
            to: self.to,
            agreement: self.agreement,
            refs: self.refs,
            body,
            key: self.key,
            status: self.status,
            terms: self.terms,
            time: self.time,
            digest: self.digest,
        })
    }
}

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": msg.into() }))).into_response()
}

/// The holder's side: appends a draft forwarded by another replica of this
/// party (the client presented this directory's own TLS key).
pub(crate) async fn append(
    State(link): State<Link>,
    Extension(who): Extension<PeerParty>,
    body: axum::body::Bytes,
) -> Response {
    if who.0 != link.reads.party.as_str() {
        return error(
            StatusCode::FORBIDDEN,
            "only a replica of this party forwards entries",
        );
    }
    let wire: DraftWire = match serde_json::from_slice(&body) {
        Ok(w) => w,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("malformed draft: {e}")),
    };
    let draft = match wire.draft(&link) {
        Ok(d) => d,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    if !link.appends.seq.is_local() {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            AppendError::NoHolder.to_string(),
        );
    }
    match link.appends.seq.append(draft).await {
        Ok(a) => {
            let leaf = link
                .reads
                .store
                .leaves(link.reads.own, a.index, 1)
                .ok()
                .and_then(|mut l| l.pop());
            match leaf {
                Some(l) => Json(AppendedWire {
                    index: a.index,
                    leaf: b64::encode(&l.leaf),
                })
                .into_response(),
                None => error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("entry {} was appended but cannot be read back", a.index),
                ),
            }
        }
        Err(e @ AppendError::Invalid(_)) => error(StatusCode::BAD_REQUEST, e.to_string()),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

/// The follower's side: a [`Forward`] that sends each draft to the holder
/// at `url`, pinned to this directory's own TLS key.
pub fn to_holder(tls: &TlsIdentity, url: &str) -> Result<Forward, crate::tls::TlsError> {
    let config = crate::tls::client_config(tls, tls.pin())?;
    let client = PeerClient::new(url, config, std::time::Duration::from_secs(15))?;
    let client = Arc::new(client);
    Ok(Arc::new(move |draft: Draft| {
        let client = client.clone();
        let body = serde_json::to_vec(&DraftWire::of(draft));
        Box::pin(async move {
            let body = body.map_err(|e| AppendError::Forward(e.to_string()))?;
            let (status, _, bytes) = client
                .request(axum::http::Method::POST, PATH, "application/json", body)
                .await
                .map_err(|e| AppendError::Forward(format!("{}: {e}", client.url())))?;
            if !status.is_success() {
                let why = serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| v["error"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
                return Err(if status == StatusCode::BAD_REQUEST {
                    AppendError::Invalid(why)
                } else {
                    AppendError::Forward(why)
                });
            }
            let a: AppendedWire = serde_json::from_slice(&bytes)
                .map_err(|e| AppendError::Forward(format!("the holder's answer: {e}")))?;
            let leaf = b64::decode(&a.leaf).ok_or_else(|| {
                AppendError::Forward("the holder's answer: the leaf is not base64".into())
            })?;
            let entry = SignedEntry::from_leaf(&leaf)
                .map_err(|e| AppendError::Forward(format!("the holder's entry: {e}")))?;
            Ok(Appended {
                index: a.index,
                leaf_hash: entry.leaf_hash(),
                header: entry.header().clone(),
            })
        })
    }))
}
