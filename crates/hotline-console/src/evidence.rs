//! Any entry's evidence: its signed header, its content for those who may
//! read it, and the proof bundles that show it to anyone — each built by
//! the same code as `hotline prove` and checked here with `hotline verify`'s
//! code against the pinned keys before it is offered.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hotline_proto::b64;
use hotline_proto::bundle::{self, Keyring};
use hotline_proto::entry::Kind;
use hotline_proto::party::Party;

use super::Console;
use super::auth::Op;
use super::view::{Chrome, PageError, blocking, render_page, texts, when};
use hotline_node::error::NodeError;
use hotline_node::records::Entry;

/// The keys a reader pins: both parties' log and cosigner keys.
pub(crate) fn keyring(c: &Console) -> Keyring {
    let mut keys = vec![c.node.log_vkey(), c.node.witness_vkey()];
    for p in c.node.federation().all() {
        keys.push(p.log_key.clone());
        keys.push(p.witness_key.clone());
    }
    Keyring::new(keys)
}

/// A bundle the page offers, with what `hotline verify` says of it.
pub(crate) struct Offered {
    pub what: &'static str,
    pub url: String,
    pub file: String,
    /// The verifier's sentence, or why the bundle cannot be made yet.
    pub result: String,
    pub ok: bool,
}

fn parse(party: &str, index: &str) -> Result<(Party, u64), PageError> {
    let p = Party::new(party).map_err(|e| PageError::not_found(format!("no such log: {e}")))?;
    let i = index
        .parse::<u64>()
        .ok()
        .filter(|i| *i <= i64::MAX as u64)
        .ok_or_else(|| PageError::not_found(format!("{index:?} is not an entry index")))?;
    Ok((p, i))
}

/// The entry, if the operator may see it: anything to or from their
/// offices, and party-level entries (agreements, keys).
fn entry(c: &Console, op: &Op, party: &Party, index: u64) -> Result<Entry, NodeError> {
    let e = c.records.entry(party, index)?;
    let h = e.header();
    if !matches!(h.kind, Kind::Agreement | Kind::Key) {
        let to = h.to.as_ref().map(ToString::to_string).unwrap_or_default();
        op.side(&format!("{party}:{index}"), &h.from, &to)?;
    }
    Ok(e)
}

fn offer(
    keys: &Keyring,
    what: &'static str,
    url: String,
    file: String,
    made: Result<String, NodeError>,
) -> Offered {
    let (result, ok) = match made {
        Ok(b) => match bundle::verify(b.as_bytes(), keys) {
            Ok(v) => (v.sentence(), true),
            Err(e) => (format!("REFUSED by the verifier: {e}"), false),
        },
        Err(e) => (format!("not available: {e}"), false),
    };
    Offered {
        what,
        url,
        file,
        result,
        ok,
    }
}

#[derive(Template)]
#[template(path = "console/evidence.html")]
struct Page {
    p: Chrome,
    id: String,
    kind: String,
    from: String,
    to: String,
    time: String,
    time_iso: String,
    header: String,
    leaf_hash: String,
    texts: Vec<(String, String)>,
    subject: Option<String>,
    attachments: Vec<super::view::AttachmentView>,
    stix: Option<String>,
    sealed_unreadable: bool,
    /// `refused: …` when the content was refused (and is not shown).
    refused: Option<String>,
    offered: Vec<Offered>,
    inquiry_url: Option<String>,
}

/// `GET /entries/{party}/{index}`.
pub(crate) async fn page(
    State(c): State<Console>,
    op: Op,
    Path((party, index)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (party, index) = parse(&party, &index)?;
    render_page(&c, StatusCode::OK, move |c2| {
        let e = entry(&c2, &op, &party, index)?;
        let h = e.header().clone();
        let id = format!("{party}:{index}");
        let shown = c2.records.open_for(&e, &|o| op.acts_for(o));
        let refused = shown.refusal();
        let content = shown.into_content();
        let src = c2.records.proofs()?;
        let keys = keyring(&c2);
        let base = format!("/entries/{party}/{index}");
        let file = format!("{party}-{index}");
        let mut offered = vec![offer(
            &keys,
            "Inclusion: the entry is in the log, signed by its writer",
            format!("{base}/proof"),
            format!("{file}-inclusion.json"),
            src.inclusion(&party, index),
        )];
        if matches!(
            h.kind,
            Kind::Message | Kind::Inquiry | Kind::Ack | Kind::Answer
        ) {
            offered.push(offer(
                &keys,
                "Delivery: the other side's signed receipt",
                format!("{base}/delivery"),
                format!("{file}-delivery.json"),
                src.delivery(&id),
            ));
        }
        if h.kind == Kind::Inquiry {
            offered.push(offer(
                &keys,
                "Answered: acknowledged and answered, against the agreement's deadlines",
                format!("{base}/answered"),
                format!("{file}-answered.json"),
                src.answered(&id),
            ));
        }
        let leaf_hash = b64::encode(e.leaf_hash());
        Ok(Page {
            p: Chrome::new(&c2, &op, "channels", format!("Evidence for {id}")),
            kind: h.kind.to_string(),
            from: h.from.clone(),
            to: h.to.as_ref().map(ToString::to_string).unwrap_or_default(),
            time: when(h.time),
            time_iso: h.time.to_string(),
            header: serde_json::to_string_pretty(&h).unwrap_or_default(),
            leaf_hash,
            sealed_unreadable: h.body.is_some() && content.is_none() && refused.is_none(),
            refused,
            subject: content.as_ref().and_then(|x| x.subject.clone()),
            texts: content.as_ref().map(texts).unwrap_or_default(),
            attachments: content
                .as_ref()
                .map(|x| super::view::attachment_views(x, &base))
                .unwrap_or_default(),
            stix: content
                .as_ref()
                .and_then(|x| x.stix.as_ref())
                .map(super::timeline::stix_summary),
            inquiry_url: (h.kind == Kind::Inquiry).then(|| format!("/inquiries/{id}")),
            offered,
            id,
        })
    })
    .await
}

fn download(name: &str, media: &'static str, bytes: Vec<u8>) -> Response {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(media)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{safe}\""))
                    .unwrap_or(HeaderValue::from_static("attachment")),
            ),
        ],
        bytes,
    )
        .into_response()
}

async fn bundle_download(
    c: Console,
    op: Op,
    party: String,
    index: String,
    which: &'static str,
) -> Result<Response, PageError> {
    let (party, index) = parse(&party, &index)?;
    let file = format!("{party}-{index}-{which}.json");
    let c2 = c.clone();
    let b = blocking(move || {
        entry(&c2, &op, &party, index)?;
        let src = c2.records.proofs()?;
        let id = format!("{party}:{index}");
        Ok(match which {
            "inclusion" => src.inclusion(&party, index),
            "delivery" => src.delivery(&id),
            _ => src.answered(&id),
        }?)
    })
    .await?;
    Ok(download(&file, "application/json", b.into_bytes()))
}

/// `GET /entries/{party}/{index}/proof`.
pub(crate) async fn proof(
    State(c): State<Console>,
    op: Op,
    Path((party, index)): Path<(String, String)>,
) -> Result<Response, PageError> {
    bundle_download(c, op, party, index, "inclusion").await
}

/// `GET /entries/{party}/{index}/delivery`.
pub(crate) async fn delivery(
    State(c): State<Console>,
    op: Op,
    Path((party, index)): Path<(String, String)>,
) -> Result<Response, PageError> {
    bundle_download(c, op, party, index, "delivery").await
}

/// `GET /entries/{party}/{index}/answered`.
pub(crate) async fn answered(
    State(c): State<Console>,
    op: Op,
    Path((party, index)): Path<(String, String)>,
) -> Result<Response, PageError> {
    bundle_download(c, op, party, index, "answered").await
}

/// `GET /entries/{party}/{index}/attachments/{n}`: always a download, never
/// rendered, whatever media type the sender claimed.
pub(crate) async fn attachment(
    State(c): State<Console>,
    op: Op,
    Path((party, index, n)): Path<(String, String, usize)>,
) -> Result<Response, PageError> {
    let (party, index) = parse(&party, &index)?;
    let c2 = c.clone();
    let (name, bytes) = blocking(move || {
        let e = entry(&c2, &op, &party, index)?;
        let content = match c2.records.open_for(&e, &|o| op.acts_for(o)) {
            hotline_node::content::Shown::Content(c) => c,
            hotline_node::content::Shown::Refused(u) => {
                return Err(PageError::forbidden(format!(
                    "this entry's content was refused ({u}), so none of it is shown"
                )));
            }
            hotline_node::content::Shown::Sealed => {
                return Err(PageError::forbidden(
                    "this entry's content is sealed to offices you do not act for",
                ));
            }
        };
        let a = content.attachments.get(n).ok_or_else(|| {
            PageError::not_found(format!("{party}:{index} has no attachment {n}"))
        })?;
        let bytes =
            b64::decode(&a.data).ok_or_else(|| PageError::internal("attachment is not base64"))?;
        Ok((a.name.clone(), bytes))
    })
    .await?;
    Ok(download(&name, "application/octet-stream", bytes))
}
