//! Calls in the console: request one (proposed times, topics, voice or
//! video), accept with the chosen time or decline with a reason, talk live
//! (WebRTC between the two browsers, signalling relayed by the nodes),
//! and each side's `call.record` when it ends and its own readout whenever
//! it chooses — both readouts side by side.

use askama::Template;
use axum::Form;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hotline_proto::agreement::parse_id;
use hotline_proto::entry::{Kind, Media};
use hotline_proto::party::Office;
use jiff::Timestamp;
use serde::Deserialize;

use super::Console;
use super::auth::Op;
use super::channels::{Channel, channels_for};
use super::view::{
    Chrome, Done, PageError, blocking, check_id, field, flash, refusal, render_page, texts, when,
};
use hotline_node::calls::{Call, CallRequest};
use hotline_node::error::NodeError;
use hotline_node::federation::signal::{self, Signal};

/// What the request form had, to show again.
#[derive(Default)]
pub(crate) struct Typed {
    pub channel: String,
    pub media: String,
    pub times: Vec<String>,
    pub tz_offset: String,
    pub topics: String,
    pub note: String,
}

pub(crate) struct Row {
    pub c: Call,
    pub url: String,
    pub incoming: bool,
    pub when: String,
    pub when_iso: String,
}

#[derive(Template)]
#[template(path = "console/calls.html")]
struct ListPage {
    p: Chrome,
    upcoming: Vec<Row>,
    past: Vec<Row>,
    channels: Vec<Channel>,
    t: Typed,
    errors: Vec<String>,
}

fn call_channels(c: &Console, op: &Op) -> Result<Vec<Channel>, NodeError> {
    Ok(channels_for(c, op)?
        .into_iter()
        .filter(|ch| ch.allows(Kind::CallRequest))
        .collect())
}

fn row(op: &Op, c: Call) -> Row {
    let at = c
        .accepted
        .as_ref()
        .map(|(_, t)| *t)
        .or_else(|| c.times.first().copied())
        .unwrap_or(c.requested_at);
    Row {
        url: format!("/calls/{}", c.id),
        incoming: op.acts_for_name(&c.to),
        when: when(at),
        when_iso: at.to_string(),
        c,
    }
}

async fn render_list(
    c: &Console,
    op: Op,
    t: Typed,
    errors: Vec<String>,
    status: StatusCode,
    done: Option<String>,
) -> Result<Response, PageError> {
    render_page(c, status, move |c2| {
        let (mut upcoming, mut past) = (Vec::new(), Vec::new());
        for call in c2.node.calls()? {
            if !op.acts_for_name(&call.from) && !op.acts_for_name(&call.to) {
                continue;
            }
            let r = row(&op, call);
            if matches!(r.c.state.as_str(), "requested" | "accepted") {
                upcoming.push(r);
            } else {
                past.push(r);
            }
        }
        upcoming.sort_by(|a, b| a.when_iso.cmp(&b.when_iso));
        Ok(ListPage {
            channels: call_channels(&c2, &op)?,
            p: Chrome::new(&c2, &op, "calls", "Calls").flash(done),
            upcoming,
            past,
            t,
            errors,
        })
    })
    .await
}

/// `GET /calls`.
pub(crate) async fn list(
    State(c): State<Console>,
    op: Op,
    axum::extract::Query(d): axum::extract::Query<Done>,
) -> Result<Response, PageError> {
    let t = Typed {
        media: "video".into(),
        times: vec![String::new()],
        ..Typed::default()
    };
    render_list(&c, op, t, vec![], StatusCode::OK, d.done).await
}

/// A `datetime-local` value (`2021-01-26T15:00`) in the writer's zone,
/// given as JavaScript's `getTimezoneOffset()` (minutes behind UTC); UTC
/// when the browser sent none. RFC 3339 with a zone is taken as is.
fn parse_local(value: &str, offset_min: i64) -> Option<Timestamp> {
    if let Ok(t) = value.parse::<Timestamp>() {
        return Some(t);
    }
    let dt: jiff::civil::DateTime = value.parse().ok()?;
    let utc = dt.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
    utc.checked_add(jiff::SignedDuration::from_mins(offset_min))
        .ok()
}

/// `POST /calls`: request a call.
pub(crate) async fn request(
    State(c): State<Console>,
    op: Op,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let get = |k: &str| field(&pairs, k);
    op.check_csrf(&get("csrf"))?;
    let t = Typed {
        channel: get("channel"),
        media: get("media"),
        times: pairs
            .iter()
            .filter(|(k, _)| k == "times")
            .map(|(_, v)| v.clone())
            .collect(),
        tz_offset: get("tz_offset"),
        topics: get("topics"),
        note: get("note"),
    };
    let mut errors = Vec::new();
    let pair = t
        .channel
        .split_once(' ')
        .and_then(|(a, b)| Some((Office::new(a).ok()?, Office::new(b).ok()?)));
    let media = match t.media.as_str() {
        "voice" => Media::Voice,
        "video" => Media::Video,
        _ => {
            errors.push("Choose voice or video.".to_owned());
            Media::Voice
        }
    };
    let offset: i64 = t.tz_offset.trim().parse().unwrap_or(0);
    let mut times = Vec::new();
    for v in t.times.iter().filter(|v| !v.trim().is_empty()) {
        match parse_local(v.trim(), offset) {
            Some(x) => times.push(x),
            None => errors.push(format!(
                "{v:?} is not a date and time; use the picker, or write 2021-01-26T15:00"
            )),
        }
    }
    if times.is_empty() && errors.is_empty() {
        errors.push("Propose at least one time for the call.".to_owned());
    }
    let topics: Vec<String> = t
        .topics
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(ToOwned::to_owned)
        .collect();
    let Some((from, to)) = pair else {
        errors.push("Choose the channel to call on.".to_owned());
        return render_list(&c, op, t, errors, StatusCode::BAD_REQUEST, None).await;
    };
    op.must_act_for(&from, "Requesting a call")?;
    if !errors.is_empty() {
        return render_list(&c, op, t, errors, StatusCode::BAD_REQUEST, None).await;
    }
    let req = CallRequest {
        media,
        times,
        topics,
        note: t.note.clone(),
    };
    match c.node.call_request(&from, &to, req).await {
        Ok(a) => {
            let id = c.own_id(a.index);
            Ok(flash(
                &format!("/calls/{id}"),
                &format!("Call {id} requested; {to} is notified."),
            ))
        }
        Err(e) => {
            let (status, e) = refusal(e)?;
            render_list(&c, op, t, vec![format!("Not requested: {e}")], status, None).await
        }
    }
}

/// One side's readouts of a call.
pub(crate) struct Side {
    pub party: String,
    pub readouts: Vec<ReadoutShown>,
}

pub(crate) struct ReadoutShown {
    pub id: String,
    pub office: String,
    pub time: String,
    pub time_iso: String,
    pub texts: Vec<(String, String)>,
    pub readable: bool,
    /// `refused: …` when the content was refused (and is not shown).
    pub refused: Option<String>,
}

#[derive(Template)]
#[template(path = "console/call.html")]
struct Page {
    p: Chrome,
    call: Call,
    ours: String,
    theirs: String,
    times: Vec<(String, String)>,
    chosen: Option<(String, String)>,
    sides: Vec<Side>,
    can_answer: bool,
    /// The live-call panel: shown while the call is requested or accepted.
    show_live: bool,
    can_join: bool,
    /// The readout form: rendered while the call may still happen, shown
    /// once it is accepted (the page script reveals it live).
    can_readout: bool,
    readout_open: bool,
    config: String,
    errors: Vec<String>,
    readout_text: String,
}

impl Page {
    /// A record's length as a person says it (`55 min`).
    fn duration(&self, secs: &u64) -> String {
        super::view::span(*secs)
    }
}

fn readout_shown(c: &Console, op: &Op, id: &str, office: &str, t: Timestamp) -> ReadoutShown {
    let content = parse_id(id).and_then(|(party, index)| {
        let e = c.records.entry(&party, index).ok()?;
        Some(c.records.open_for(&e, &|o| op.acts_for(o)))
    });
    let refused = content.as_ref().and_then(|s| s.refusal());
    let content = content.and_then(|s| s.into_content());
    ReadoutShown {
        id: id.to_owned(),
        office: office.to_owned(),
        time: when(t),
        time_iso: t.to_string(),
        readable: content.is_some() || refused.is_some(),
        refused,
        texts: content.as_ref().map(texts).unwrap_or_default(),
    }
}

async fn render(
    c: &Console,
    op: Op,
    id: String,
    errors: Vec<String>,
    readout_text: String,
    status: StatusCode,
    done: Option<String>,
) -> Result<Response, PageError> {
    render_page(c, status, move |c2| {
        let call = c2.node.call(&id)?;
        let (ours, theirs) = op.side(&format!("call {id}"), &call.from, &call.to)?;
        let (ours, theirs) = (ours.to_owned(), theirs.to_owned());
        let mut sides = Vec::new();
        for party in [
            c2.node.party().to_string(),
            theirs.split('/').next().unwrap_or("").to_owned(),
        ] {
            let readouts = call
                .readouts
                .iter()
                .filter(|r| r.office.split('/').next() == Some(party.as_str()))
                .map(|r| readout_shown(&c2, &op, &r.id, &r.office, r.time))
                .collect();
            sides.push(Side { party, readouts });
        }
        let config = serde_json::json!({
            "call": call.id,
            "me": ours,
            "them": theirs,
            "name": format!("{} ({ours})", op.operator.name),
            "offerer": call.from == ours,
            "video": call.media == Some(Media::Video),
            "csrf": op.csrf,
            "iceServers": c2.node.config().calls.ice_servers,
        })
        .to_string()
        .replace('<', "\\u003c");
        Ok(Page {
            p: Chrome::new(&c2, &op, "calls", format!("Call {id}")).flash(done),
            times: call
                .times
                .iter()
                .map(|t| (t.to_string(), when(*t)))
                .collect(),
            chosen: call
                .accepted
                .as_ref()
                .map(|(_, t)| (t.to_string(), when(*t))),
            can_answer: call.state == "requested" && op.acts_for_name(&call.to),
            show_live: call.state == "requested" || call.state == "accepted",
            can_join: call.state == "accepted",
            // Once this side's readout exists the page shows it instead of
            // the form (a later one may still amend it, from the CLI or API).
            can_readout: call.state != "declined"
                && sides.first().is_some_and(|s| s.readouts.is_empty()),
            readout_open: call.state == "accepted" || call.state == "held",
            sides,
            ours,
            theirs,
            config,
            errors,
            readout_text,
            call,
        })
    })
    .await
}

/// `GET /calls/{id}`.
pub(crate) async fn page(
    State(c): State<Console>,
    op: Op,
    Path(id): Path<String>,
    axum::extract::Query(d): axum::extract::Query<Done>,
) -> Result<Response, PageError> {
    check_id(&id, "a call")?;
    render(&c, op, id, vec![], String::new(), StatusCode::OK, d.done).await
}

#[derive(Deserialize)]
pub(crate) struct AcceptForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    at: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    reason: String,
}

async fn addressee_check(c: &Console, op: &Op, id: &str) -> Result<(), PageError> {
    check_id(id, "a call")?;
    let (n, id2) = (c.node.clone(), id.to_owned());
    let call = blocking(move || Ok(n.call(&id2)?)).await?;
    let office = Office::new(&call.to).map_err(PageError::internal)?;
    op.must_act_for(&office, "Answering this call request")
}

/// `POST /calls/{id}/accept`.
pub(crate) async fn accept(
    State(c): State<Console>,
    op: Op,
    Path(id): Path<String>,
    Form(f): Form<AcceptForm>,
) -> Result<Response, PageError> {
    op.check_csrf(&f.csrf)?;
    addressee_check(&c, &op, &id).await?;
    let at: Timestamp = f.at.parse().map_err(|_| {
        PageError::new(StatusCode::BAD_REQUEST, "Choose one of the proposed times.")
    })?;
    let a = c.node.call_accept(&id, at, f.note).await?;
    Ok(flash(
        &format!("/calls/{id}"),
        &format!(
            "Accepted for {} (entry {}). Join when it is time.",
            when(at),
            c.own_id(a.index)
        ),
    ))
}

/// `POST /calls/{id}/decline`.
pub(crate) async fn decline(
    State(c): State<Console>,
    op: Op,
    Path(id): Path<String>,
    Form(f): Form<AcceptForm>,
) -> Result<Response, PageError> {
    op.check_csrf(&f.csrf)?;
    addressee_check(&c, &op, &id).await?;
    if f.reason.trim().is_empty() {
        return render(
            &c,
            op,
            id,
            vec!["Give a reason for declining: the other side reads it.".into()],
            String::new(),
            StatusCode::BAD_REQUEST,
            None,
        )
        .await;
    }
    let a = c.node.call_decline(&id, f.reason).await?;
    Ok(flash(
        &format!("/calls/{id}"),
        &format!("Declined (entry {}).", c.own_id(a.index)),
    ))
}

#[derive(Deserialize)]
pub(crate) struct ReadoutForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    tr_text: String,
    #[serde(default)]
    tr_lang: String,
}

/// `POST /calls/{id}/readout`.
pub(crate) async fn readout(
    State(c): State<Console>,
    op: Op,
    Path(id): Path<String>,
    Form(f): Form<ReadoutForm>,
) -> Result<Response, PageError> {
    op.check_csrf(&f.csrf)?;
    check_id(&id, "a call")?;
    let (n, id2) = (c.node.clone(), id.clone());
    let call = blocking(move || Ok(n.call(&id2)?)).await?;
    let (ours, _) = op.side(&format!("call {id}"), &call.from, &call.to)?;
    let from = Office::new(ours).map_err(PageError::internal)?;
    let typed = super::compose::Typed {
        text: f.text.clone(),
        lang: f.lang,
        tr_lang: f.tr_lang,
        tr_text: f.tr_text,
        ..Default::default()
    };
    let content = match super::compose::content_from(&Default::default(), &typed, None) {
        Ok(x) => x,
        Err(problems) => {
            return render(&c, op, id, problems, f.text, StatusCode::BAD_REQUEST, None).await;
        }
    };
    match c.node.readout(&id, &from, content).await {
        Ok(a) => Ok(flash(
            &format!("/calls/{id}"),
            &format!("Readout {} published, signed by {from}.", c.own_id(a.index)),
        )),
        Err(e) => {
            let (status, e) = refusal(e)?;
            let errors = vec![format!("Not published: {e}")];
            render(&c, op, id, errors, f.text, status, None).await
        }
    }
}

/// Scripts send their CSRF token in a header.
fn csrf_header(op: &Op, headers: &HeaderMap) -> Result<(), PageError> {
    let given = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    op.check_csrf(given)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignalBody {
    kind: String,
    #[serde(default)]
    data: serde_json::Value,
}

/// `POST /calls/{id}/signal`: from this browser to the other side's.
pub(crate) async fn send_signal(
    State(c): State<Console>,
    op: Op,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(b): Json<SignalBody>,
) -> Result<Response, PageError> {
    csrf_header(&op, &headers)?;
    check_id(&id, "a call")?;
    let (n, id2) = (c.node.clone(), id.clone());
    let (a, b2) = blocking(move || Ok(signal::call_offices(&n, &id2)?)).await?;
    let (from, to) = op.side(&format!("call {id}"), a.as_str(), b2.as_str())?;
    let s = Signal {
        call: id,
        from: from.to_string(),
        to: to.to_string(),
        kind: b.kind,
        data: b.data,
    };
    signal::send(&c.node, &s).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EndedBody {
    start: Timestamp,
    end: Timestamp,
    #[serde(default)]
    participants: Vec<String>,
    /// The other side hung up: its record is on its way, so wait for it and
    /// refer to it (the two records are then cross-referenced).
    #[serde(default)]
    after_peer: bool,
}

/// How long a side that was hung up on waits for the other's record.
const PEER_RECORD_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// `POST /calls/{id}/ended`: this side's `call.record`, written once.
pub(crate) async fn ended(
    State(c): State<Console>,
    op: Op,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(b): Json<EndedBody>,
) -> Result<Response, PageError> {
    csrf_header(&op, &headers)?;
    check_id(&id, "a call")?;
    let (n, id2) = (c.node.clone(), id.clone());
    let call = blocking(move || Ok(n.call(&id2)?)).await?;
    op.side(&format!("call {id}"), &call.from, &call.to)?;
    // The node writes the record as this party's office on the call, the
    // requester when both are this party's: the operator must act for that
    // one, not merely for one of the two.
    let own = |o: &str| o.split('/').next() == Some(c.node.party().as_str());
    let ours = if own(&call.from) {
        &call.from
    } else {
        &call.to
    };
    op.must_act_for(
        &Office::new(ours).map_err(PageError::internal)?,
        "Recording this call",
    )?;
    let ours = ours.as_str();
    if let Some(r) = call.records.iter().find(|r| r.office == ours) {
        return Ok((StatusCode::OK, Json(serde_json::json!({ "id": r.id }))).into_response());
    }
    if b.after_peer {
        let deadline = tokio::time::Instant::now() + PEER_RECORD_WAIT;
        let theirs = if call.from == ours {
            &call.to
        } else {
            &call.from
        };
        while tokio::time::Instant::now() < deadline {
            let (n, id2) = (c.node.clone(), id.clone());
            let now = blocking(move || Ok(n.call(&id2)?)).await?;
            if now.records.iter().any(|r| &r.office == theirs) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
    let mut participants = b.participants;
    participants.truncate(20);
    match c.node.call_record(&id, b.start, b.end, participants).await {
        Ok(a) => Ok((
            StatusCode::CREATED,
            Json(serde_json::json!({ "id": c.own_id(a.index) })),
        )
            .into_response()),
        Err(NodeError::Conflict(m)) => {
            Ok((StatusCode::OK, Json(serde_json::json!({ "note": m }))).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
