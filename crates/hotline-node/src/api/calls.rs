//! The API's calls, readouts and joint statements (`/v1/calls…`,
//! `/v1/statements…`, `/v1/proofs/statement/{id}`); routed in `api::app`.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hotline_proto::entry::{Content, Media};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{ApiError, AppState, Body, CreatedJson, P, created, office};
use crate::calls::{Call, CallRequest};
use crate::error::NodeError;
use crate::sequencer::Appended;
use crate::statements::Statement;

/// `POST /v1/calls`: a call request.
#[derive(Serialize, Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct NewCall {
    /// Requesting office (this party's).
    pub from: String,
    /// Addressed office.
    pub to: String,
    /// `voice` (the default) or `video`.
    #[serde(default)]
    pub media: Option<Media>,
    /// Proposed times, 1 to 10.
    pub times: Vec<Timestamp>,
    /// Topics, at most 20.
    #[serde(default)]
    pub topics: Vec<String>,
    /// A note to the other side.
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /v1/calls/{id}/accept`.
#[derive(Serialize, Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct AcceptCall {
    /// The chosen time.
    pub at: Timestamp,
    /// A note to the requester.
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /v1/calls/{id}/decline`.
#[derive(Serialize, Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct DeclineCall {
    /// Why.
    pub reason: String,
}

/// `POST /v1/calls/{id}/record`.
#[derive(Serialize, Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct RecordCall {
    /// When the call started.
    pub start: Timestamp,
    /// When it ended.
    pub end: Timestamp,
    /// Who took part.
    #[serde(default)]
    pub participants: Vec<String>,
}

/// `POST /v1/calls/{id}/readouts` and `POST /v1/statements`.
#[derive(Serialize, Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct TextEntry {
    /// Writing office (this party's).
    pub from: String,
    /// Addressed office (statements only; a readout goes to the call's other side).
    #[serde(default)]
    pub to: Option<String>,
    /// The text.
    pub content: Content,
}

/// `POST /v1/statements/{id}/endorse`.
#[derive(Serialize, Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Endorse {
    /// Exactly the proposed text.
    pub text: String,
}

type Created = Result<(StatusCode, Json<CreatedJson>), ApiError>;

fn made(s: &AppState, a: &Appended) -> (StatusCode, Json<CreatedJson>) {
    (
        StatusCode::CREATED,
        Json(created(format!("{}:{}", s.node.party(), a.index), a, None)),
    )
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, NodeError> + Send + 'static,
) -> Result<T, ApiError> {
    Ok(tokio::task::spawn_blocking(f)
        .await
        .map_err(NodeError::from)??)
}

pub(super) async fn list_calls(State(s): State<AppState>) -> Result<Json<Vec<Call>>, ApiError> {
    let node = s.node.clone();
    Ok(Json(blocking(move || node.calls()).await?))
}

pub(super) async fn get_call(
    State(s): State<AppState>,
    P(id): P<String>,
) -> Result<Json<Call>, ApiError> {
    let node = s.node.clone();
    Ok(Json(blocking(move || node.call(&id)).await?))
}

pub(super) async fn request_call(State(s): State<AppState>, Body(r): Body<NewCall>) -> Created {
    let (from, to) = (office(&r.from, "from")?, office(&r.to, "to")?);
    let req = CallRequest {
        media: r.media.unwrap_or(Media::Voice),
        times: r.times,
        topics: r.topics,
        note: r.note.unwrap_or_default(),
    };
    let a = s.node.call_request(&from, &to, req).await?;
    Ok(made(&s, &a))
}

pub(super) async fn accept_call(
    State(s): State<AppState>,
    P(id): P<String>,
    Body(r): Body<AcceptCall>,
) -> Created {
    let a = s
        .node
        .call_accept(&id, r.at, r.note.unwrap_or_default())
        .await?;
    Ok(made(&s, &a))
}

pub(super) async fn decline_call(
    State(s): State<AppState>,
    P(id): P<String>,
    Body(r): Body<DeclineCall>,
) -> Created {
    let a = s.node.call_decline(&id, r.reason).await?;
    Ok(made(&s, &a))
}

pub(super) async fn record_call(
    State(s): State<AppState>,
    P(id): P<String>,
    Body(r): Body<RecordCall>,
) -> Created {
    let a = s
        .node
        .call_record(&id, r.start, r.end, r.participants)
        .await?;
    Ok(made(&s, &a))
}

pub(super) async fn readout(
    State(s): State<AppState>,
    P(id): P<String>,
    Body(r): Body<TextEntry>,
) -> Created {
    if r.to.is_some() {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "a readout has no `to`: it goes to the other side's office on the call".into(),
        ));
    }
    let from = office(&r.from, "from")?;
    let a = s.node.readout(&id, &from, r.content).await?;
    Ok(made(&s, &a))
}

pub(super) async fn list_statements(
    State(s): State<AppState>,
) -> Result<Json<Vec<Statement>>, ApiError> {
    let node = s.node.clone();
    Ok(Json(blocking(move || node.statements()).await?))
}

pub(super) async fn propose_statement(
    State(s): State<AppState>,
    Body(r): Body<TextEntry>,
) -> Created {
    let from = office(&r.from, "from")?;
    let to = office(r.to.as_deref().unwrap_or_default(), "to")?;
    let a = s.node.statement(&from, &to, r.content).await?;
    Ok(made(&s, &a))
}

pub(super) async fn endorse(
    State(s): State<AppState>,
    P(id): P<String>,
    Body(r): Body<Endorse>,
) -> Created {
    let a = s.node.endorse(&id, &r.text).await?;
    Ok(made(&s, &a))
}

pub(super) async fn prove_statement(
    State(s): State<AppState>,
    P(id): P<String>,
) -> Result<Response, ApiError> {
    let dir = s.node.dir().clone();
    let b = blocking(move || crate::proofs::ProofSource::open(&dir)?.statement(&id)).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], b).into_response())
}
