//! The node's HTTP API (JSON), described by the OpenAPI document it serves at
//! `/openapi.json`.
//!
//! Public: `/healthz`, `/metrics` (Prometheus), `/openapi.json`, `/checkpoint`
//! (the latest signed checkpoint, as C2SP tlog-tiles serves it). Everything
//! under `/v1/` needs `Authorization: Bearer <DIR/api.token>`: the token file
//! is readable only by the node's owner, so the local CLI can act and other
//! users of the machine cannot.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hotline_proto::b64;
use hotline_proto::entry::Content;
use hotline_proto::keys::PartyIdentity;
use hotline_proto::party::Office;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::NodeError;
use crate::node::Node;
use crate::sequencer::Appended;

pub mod calls;
pub mod status;
pub mod transport;

/// The OpenAPI 3.1 description of this API.
pub const OPENAPI: &str = include_str!("../openapi.json");

#[derive(Clone)]
struct AppState {
    node: Node,
    token_hash: Arc<[u8; 32]>,
}

/// An API error: a status and a message that says what to do.
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.0,
            Json(serde_json::json!({ "error": self.1, "status": self.0.as_u16() })),
        )
            .into_response()
    }
}

impl From<NodeError> for ApiError {
    fn from(e: NodeError) -> Self {
        let status = status::status_of(&e);
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "request failed");
        }
        ApiError(status, e.to_string())
    }
}

/// A JSON body whose rejections are reported as our JSON errors.
struct Body<T>(T);

impl<S, T> FromRequest<S> for Body<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(r) => {
                let status = r.status();
                let msg = if status == StatusCode::PAYLOAD_TOO_LARGE {
                    "request body is over the node's limit (limits.max_request_bytes in hotline.toml)".to_owned()
                } else {
                    format!("malformed request: {}", r.body_text())
                };
                Err(ApiError(
                    if status == StatusCode::PAYLOAD_TOO_LARGE {
                        status
                    } else {
                        StatusCode::BAD_REQUEST
                    },
                    msg,
                ))
            }
        }
    }
}

/// Wraps an axum extractor so that its rejections are our JSON errors.
macro_rules! json_rejections {
    ($(#[$doc:meta])* $name:ident, $inner:ident, $what:literal) => {
        $(#[$doc])*
        struct $name<T>(T);

        impl<S, T> axum::extract::FromRequestParts<S> for $name<T>
        where
            T: serde::de::DeserializeOwned + Send,
            S: Send + Sync,
        {
            type Rejection = ApiError;
            async fn from_request_parts(
                parts: &mut axum::http::request::Parts,
                state: &S,
            ) -> Result<Self, ApiError> {
                $inner::<T>::from_request_parts(parts, state)
                    .await
                    .map(|$inner(v)| $name(v))
                    .map_err(|r| ApiError(StatusCode::BAD_REQUEST, format!(concat!("malformed ", $what, ": {}"), r.body_text())))
            }
        }
    };
}

json_rejections!(
    /// A query string whose rejections are reported as our JSON errors.
    Q, Query, "query"
);
json_rejections!(
    /// A path parameter whose rejections are reported as our JSON errors.
    P, Path, "path"
);

/// What an append returns.
#[derive(Serialize, Deserialize, Debug)]
pub struct AppendedJson {
    /// Index in the log.
    pub index: u64,
    /// Leaf hash, base64.
    pub leaf_hash: String,
    /// Header time.
    pub time: String,
    /// Entry kind.
    pub kind: String,
}

impl From<Appended> for AppendedJson {
    fn from(a: Appended) -> Self {
        Self {
            index: a.index,
            leaf_hash: b64::encode(a.leaf_hash.0),
            time: a.header.time.to_string(),
            kind: a.header.kind.to_string(),
        }
    }
}

/// `POST /v1/messages`.
#[derive(Serialize, Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    /// Sending office (this party's).
    pub from: String,
    /// Receiving office.
    pub to: String,
    /// The text.
    pub text: String,
    /// Its language (BCP 47).
    #[serde(default)]
    pub lang: Option<String>,
}

/// `POST /v1/offices` (and the office named by `POST /v1/offices/rotate`
/// and `/v1/offices/revoke`).
#[derive(Serialize, Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct AddOffice {
    /// The office to create (rotate, revoke).
    pub office: String,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    start: u64,
    #[serde(default = "default_limit")]
    limit: u64,
}

fn default_limit() -> u64 {
    1000
}

fn office(s: &str, field: &str) -> Result<Office, ApiError> {
    Office::new(s).map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("{field}: {e}")))
}

/// Liveness for anyone (a load balancer, a browser); the log's size only
/// with the token, since how much a party writes is traffic.
async fn healthz(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !authorized(&headers, &s) {
        return Ok(Json(
            serde_json::json!({ "status": "ok", "party": s.node.party().as_str() }),
        ));
    }
    let size = s.node.reader().size()?;
    Ok(Json(
        serde_json::json!({ "status": "ok", "party": s.node.party().as_str(), "log_size": size }),
    ))
}

/// What `/metrics` shows without the token: that the node is up, nothing
/// about peers or traffic.
const ANONYMOUS_METRICS: &str = "# HELP hotline_up The node is serving. Every other metric needs the API token (Authorization: Bearer).\n# TYPE hotline_up gauge\nhotline_up 1\n# EOF\n";

async fn metrics(State(s): State<AppState>, headers: HeaderMap) -> Response {
    if !authorized(&headers, &s) {
        return (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            ANONYMOUS_METRICS,
        )
            .into_response();
    }
    let node = s.node.clone();
    if let Ok(Ok(list)) = tokio::task::spawn_blocking(move || node.inquiries()).await {
        let n = list.iter().filter(|q| q.overdue).count();
        s.node
            .metrics()
            .inquiries_overdue
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.node.metrics().render(),
    )
        .into_response()
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

async fn checkpoint(State(s): State<AppState>) -> Result<Response, ApiError> {
    let (_, note) = s.node.reader().checkpoint()?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response())
}

async fn send_message(
    State(s): State<AppState>,
    Body(m): Body<SendMessage>,
) -> Result<(StatusCode, Json<AppendedJson>), ApiError> {
    let (from, to) = (office(&m.from, "from")?, office(&m.to, "to")?);
    let a = s
        .node
        .send_message(&from, &to, Content::text(m.text, m.lang), None)
        .await?;
    Ok((StatusCode::CREATED, Json(a.into())))
}

async fn add_office(
    State(s): State<AppState>,
    Body(m): Body<AddOffice>,
) -> Result<(StatusCode, Json<AppendedJson>), ApiError> {
    let a = s.node.add_office(office(&m.office, "office")?).await?;
    Ok((StatusCode::CREATED, Json(a.into())))
}

async fn rotate_office(
    State(s): State<AppState>,
    Body(m): Body<AddOffice>,
) -> Result<(StatusCode, Json<AppendedJson>), ApiError> {
    let a = s.node.rotate_office(office(&m.office, "office")?).await?;
    Ok((StatusCode::CREATED, Json(a.into())))
}

async fn revoke_office(
    State(s): State<AppState>,
    Body(m): Body<AddOffice>,
) -> Result<(StatusCode, Json<AppendedJson>), ApiError> {
    let a = s.node.revoke_office(office(&m.office, "office")?).await?;
    Ok((StatusCode::CREATED, Json(a.into())))
}

async fn list_offices(State(s): State<AppState>) -> Json<Vec<String>> {
    Json(s.node.offices().iter().map(ToString::to_string).collect())
}

async fn identity(State(s): State<AppState>) -> Json<PartyIdentity> {
    Json(s.node.identity())
}

async fn add_peer(
    State(s): State<AppState>,
    Body(id): Body<PartyIdentity>,
) -> Result<StatusCode, ApiError> {
    s.node.add_peer(id)?;
    Ok(StatusCode::CREATED)
}

async fn list_witnesses(State(s): State<AppState>) -> Json<Vec<crate::witnesses::WitnessStatus>> {
    Json(s.node.witnesses().status())
}

async fn add_witness(
    State(s): State<AppState>,
    Body(w): Body<crate::dir::WitnessConfig>,
) -> Result<(StatusCode, Json<crate::witnesses::WitnessStatus>), ApiError> {
    Ok((StatusCode::CREATED, Json(s.node.add_witness(w)?)))
}

#[derive(serde::Deserialize)]
struct WhichWitness {
    witness: String,
}

async fn remove_witness(
    State(s): State<AppState>,
    Q(w): Q<WhichWitness>,
) -> Result<StatusCode, ApiError> {
    s.node.remove_witness(&w.witness)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn log(
    State(s): State<AppState>,
    Q(p): Q<Page>,
) -> Result<Json<Vec<crate::log::LogLine>>, ApiError> {
    if p.start > i64::MAX as u64 {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("start {} is beyond any log", p.start),
        ));
    }
    Ok(Json(s.node.reader().lines(p.start, p.limit.min(10_000))?))
}

async fn prove_entry(State(s): State<AppState>, P(index): P<u64>) -> Result<Response, ApiError> {
    let b = s.node.reader().prove_entry(index)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], b).into_response())
}

#[derive(Serialize)]
struct Status {
    party: String,
    origin: String,
    log_size: u64,
    peers: Vec<crate::federation::status::PeerStatus>,
    equivocations: usize,
    inquiries_overdue: Vec<String>,
    store: crate::dir::StoreAt,
    lease: Option<crate::replica::LeaseStatus>,
    witnesses: Vec<crate::witnesses::WitnessStatus>,
}

async fn status(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let node = s.node.clone();
    let st = tokio::task::spawn_blocking(move || -> Result<Status, NodeError> {
        let mut peers = Vec::new();
        for p in node.federation().all() {
            peers.push(crate::federation::status::peer_status(&node, &p)?);
        }
        Ok(Status {
            party: node.party().to_string(),
            origin: node.config().origin.clone(),
            log_size: node.reader().size()?,
            peers,
            equivocations: node.store().equivocations()?.len(),
            inquiries_overdue: node
                .inquiries()?
                .into_iter()
                .filter(|q| q.overdue)
                .map(|q| q.id)
                .collect(),
            store: crate::dir::StoreAt::of(node.dir(), node.config()),
            lease: node.replica().status()?,
            witnesses: node.witnesses().status(),
        })
    })
    .await
    .map_err(NodeError::from)??;
    let mut v = serde_json::to_value(st).map_err(NodeError::from)?;
    v["api"] = s.node.served_api().unwrap_or(serde_json::Value::Null);
    Ok(Json(v))
}

async fn peer_log(
    State(s): State<AppState>,
    P(party): P<String>,
    Q(p): Q<Page>,
) -> Result<Json<Vec<crate::log::LogLine>>, ApiError> {
    let party = hotline_proto::party::Party::new(&party)
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.to_string()))?;
    if p.start > i64::MAX as u64 {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("start {} is beyond any log", p.start),
        ));
    }
    Ok(Json(
        s.node
            .mirror_reader(&party)?
            .lines(p.start, p.limit.min(10_000))?,
    ))
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListenerSwitch {
    open: bool,
}

async fn peer_listener(
    State(s): State<AppState>,
    Body(sw): Body<ListenerSwitch>,
) -> Json<ListenerSwitch> {
    s.node.peer_listener().send_replace(sw.open);
    tracing::warn!(open = sw.open, "peer listener switched by an operator");
    Json(sw)
}

async fn equivocations(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let list: Vec<serde_json::Value> = s
        .node
        .store()
        .equivocations()
        .map_err(NodeError::from)?
        .into_iter()
        .map(|e| serde_json::json!({ "id": e.id, "origin": e.origin, "detected": e.detected }))
        .collect();
    Ok(Json(serde_json::Value::Array(list)))
}

async fn prove_equivocation(
    State(s): State<AppState>,
    P(id): P<i64>,
) -> Result<Response, ApiError> {
    let b = s
        .node
        .store()
        .equivocations()
        .map_err(NodeError::from)?
        .into_iter()
        .find(|e| e.id == id)
        .ok_or_else(|| {
            ApiError(
                StatusCode::NOT_FOUND,
                format!("no equivocation #{id} on record"),
            )
        })?;
    Ok(([(header::CONTENT_TYPE, "application/json")], b.bundle).into_response())
}

/// An agreement as the API (and `hotline agreements --json`) lists it.
#[derive(Serialize)]
pub struct AgreementJson {
    id: String,
    title: String,
    proposer: String,
    counterparty: String,
    state: hotline_proto::agreement::State,
    proposed_at: jiff::Timestamp,
    signed_at: Option<jiff::Timestamp>,
    withdrawn_by: Option<String>,
    withdrawal_effective: Option<jiff::Timestamp>,
    terms: hotline_proto::agreement::Terms,
}

/// The listing form of an agreement, with its state at `now`.
pub fn agreement_json(
    a: hotline_proto::agreement::Agreement,
    now: jiff::Timestamp,
) -> AgreementJson {
    AgreementJson {
        state: a.state(now),
        id: a.id,
        title: a.terms.title.clone(),
        proposer: a.proposer.to_string(),
        counterparty: a.counterparty.to_string(),
        proposed_at: a.proposed_at,
        signed_at: a.signed_at,
        withdrawn_by: a.withdrawn.as_ref().map(|(p, _)| p.to_string()),
        withdrawal_effective: a.withdrawn.map(|(_, t)| t),
        terms: a.terms,
    }
}

async fn list_agreements(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let node = s.node.clone();
    let list = tokio::task::spawn_blocking(move || node.agreements())
        .await
        .map_err(NodeError::from)??;
    let now = crate::clock::now();
    let out: Vec<AgreementJson> = list.into_iter().map(|a| agreement_json(a, now)).collect();
    Ok(Json(serde_json::to_value(out).map_err(NodeError::from)?))
}

/// What creating an agreement entry returns: its id and where it sits.
#[derive(Serialize, Deserialize, Debug)]
pub struct CreatedJson {
    /// The id of what was created or acted on (`party:index`).
    pub id: String,
    /// The new entry's index in this party's log.
    pub index: u64,
    /// Its leaf hash, base64.
    pub leaf_hash: String,
    /// Its time.
    pub time: String,
    /// For withdrawals: when the agreement stops being in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective: Option<String>,
}

fn created(id: String, a: &Appended, effective: Option<jiff::Timestamp>) -> CreatedJson {
    CreatedJson {
        id,
        index: a.index,
        leaf_hash: b64::encode(a.leaf_hash.0),
        time: a.header.time.to_string(),
        effective: effective.map(|t| t.to_string()),
    }
}

async fn propose_agreement(
    State(s): State<AppState>,
    Body(terms): Body<hotline_proto::agreement::Terms>,
) -> Result<(StatusCode, Json<CreatedJson>), ApiError> {
    let a = s.node.propose_agreement(terms).await?;
    let id = format!("{}:{}", s.node.party(), a.index);
    Ok((StatusCode::CREATED, Json(created(id, &a, None))))
}

async fn sign_agreement(
    State(s): State<AppState>,
    P(id): P<String>,
) -> Result<(StatusCode, Json<CreatedJson>), ApiError> {
    let a = s.node.sign_agreement(&id).await?;
    Ok((StatusCode::CREATED, Json(created(id, &a, None))))
}

async fn withdraw_agreement(
    State(s): State<AppState>,
    P(id): P<String>,
) -> Result<(StatusCode, Json<CreatedJson>), ApiError> {
    let (a, effective) = s.node.withdraw_agreement(&id).await?;
    Ok((StatusCode::CREATED, Json(created(id, &a, Some(effective)))))
}

/// `POST /v1/inquiries` and answers: the content, with attachments already base64.
#[derive(Serialize, Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct InquiryRequest {
    /// Sending office (inquiries only).
    #[serde(default)]
    pub from: Option<String>,
    /// Receiving office (inquiries only).
    #[serde(default)]
    pub to: Option<String>,
    /// The content.
    pub content: Content,
}

async fn inquire(
    State(s): State<AppState>,
    Body(r): Body<InquiryRequest>,
) -> Result<(StatusCode, Json<CreatedJson>), ApiError> {
    let from = office(r.from.as_deref().unwrap_or_default(), "from")?;
    let to = office(r.to.as_deref().unwrap_or_default(), "to")?;
    let a = s.node.inquire(&from, &to, r.content).await?;
    Ok((
        StatusCode::CREATED,
        Json(created(format!("{}:{}", s.node.party(), a.index), &a, None)),
    ))
}

async fn list_inquiries(
    State(s): State<AppState>,
) -> Result<Json<Vec<crate::inquiries::Inquiry>>, ApiError> {
    let node = s.node.clone();
    Ok(Json(
        tokio::task::spawn_blocking(move || node.inquiries())
            .await
            .map_err(NodeError::from)??,
    ))
}

async fn ack_inquiry(
    State(s): State<AppState>,
    P(id): P<String>,
) -> Result<(StatusCode, Json<CreatedJson>), ApiError> {
    let a = s.node.ack(&id).await?;
    Ok((
        StatusCode::CREATED,
        Json(created(format!("{}:{}", s.node.party(), a.index), &a, None)),
    ))
}

async fn answer_inquiry(
    State(s): State<AppState>,
    P(id): P<String>,
    Body(r): Body<InquiryRequest>,
) -> Result<(StatusCode, Json<CreatedJson>), ApiError> {
    let a = s.node.answer(&id, r.content).await?;
    Ok((
        StatusCode::CREATED,
        Json(created(format!("{}:{}", s.node.party(), a.index), &a, None)),
    ))
}

async fn close_inquiry(
    State(s): State<AppState>,
    P(id): P<String>,
) -> Result<(StatusCode, Json<CreatedJson>), ApiError> {
    let a = s.node.close(&id).await?;
    Ok((
        StatusCode::CREATED,
        Json(created(format!("{}:{}", s.node.party(), a.index), &a, None)),
    ))
}

async fn auth(
    State(s): State<AppState>,
    headers: HeaderMap,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if !authorized(&headers, &s) {
        return Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "missing or wrong API token: send `Authorization: Bearer <contents of DIR/api.token>`"
                .into(),
        ));
    }
    Ok(next.run(req).await)
}

/// Whether the request carries the API token.
fn authorized(headers: &HeaderMap, s: &AppState) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .unwrap_or_default();
    let h: [u8; 32] = Sha256::digest(given.as_bytes()).into();
    // An empty token never authorises, even if the token file is empty.
    !given.is_empty() && h == *s.token_hash
}

async fn count_rejections(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.status().is_client_error() {
        s.node.metrics().rejected.inc();
    }
    res
}

async fn fallback() -> ApiError {
    ApiError(
        StatusCode::NOT_FOUND,
        "no such endpoint; see /openapi.json".into(),
    )
}

/// The whole API as a router (tests call it without a socket).
pub fn app(node: Node, token: &str) -> Router {
    let state = AppState {
        token_hash: Arc::new(Sha256::digest(token.trim().as_bytes()).into()),
        node,
    };
    let limit = state.node.config().limits.max_request_bytes;
    let v1 = Router::new()
        .route("/messages", post(send_message))
        .route("/offices", post(add_office).get(list_offices))
        .route("/offices/rotate", post(rotate_office))
        .route("/offices/revoke", post(revoke_office))
        .route("/identity", get(identity))
        .route("/peers", post(add_peer))
        .route(
            "/witnesses",
            get(list_witnesses).post(add_witness).delete(remove_witness),
        )
        .route("/log", get(log))
        .route("/proofs/entry/{index}", get(prove_entry))
        .route("/status", get(status))
        .route("/agreements", get(list_agreements).post(propose_agreement))
        .route("/inquiries", get(list_inquiries).post(inquire))
        .route("/inquiries/{id}/ack", post(ack_inquiry))
        .route("/inquiries/{id}/answer", post(answer_inquiry))
        .route("/inquiries/{id}/close", post(close_inquiry))
        .route("/agreements/{id}/sign", post(sign_agreement))
        .route("/agreements/{id}/withdraw", post(withdraw_agreement))
        .route("/peers/{party}/log", get(peer_log))
        .route("/peer-listener", axum::routing::put(peer_listener))
        .route("/equivocations", get(equivocations))
        .route("/proofs/equivocation/{id}", get(prove_equivocation))
        .route("/calls", get(calls::list_calls).post(calls::request_call))
        .route("/calls/{id}", get(calls::get_call))
        .route("/calls/{id}/accept", post(calls::accept_call))
        .route("/calls/{id}/decline", post(calls::decline_call))
        .route("/calls/{id}/record", post(calls::record_call))
        .route("/calls/{id}/readouts", post(calls::readout))
        .route(
            "/statements",
            get(calls::list_statements).post(calls::propose_statement),
        )
        .route("/statements/{id}/endorse", post(calls::endorse))
        .route("/proofs/statement/{id}", get(calls::prove_statement))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/checkpoint", get(checkpoint))
        .nest("/v1", v1)
        .fallback(fallback)
        .with_state(state.clone())
        .merge(crate::tiles::router(
            state.node.clone(),
            state.token_hash.clone(),
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_rejections,
        ))
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::map_response(
            |mut r: Response| async move {
                r.headers_mut().insert(
                    "x-content-type-options",
                    HeaderValue::from_static("nosniff"),
                );
                r
            },
        ))
}
