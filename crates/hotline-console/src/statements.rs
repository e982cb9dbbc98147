//! Joint statements in the console: one side proposes a text, the other
//! endorses exactly that text (the same SHA-256), and either hands anyone the
//! `hotline/statement/v2` bundle that shows it joint — or one-sided.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hotline_proto::agreement::parse_id;
use hotline_proto::bundle;
use hotline_proto::entry::Kind;
use hotline_proto::party::Office;

use super::Console;
use super::auth::Op;
use super::channels::{Channel, channels_for};
use super::view::{
    Chrome, Done, PageError, blocking, check_id, field, flash, refusal, render_page, texts, when,
};
use hotline_node::error::NodeError;
use hotline_node::statements::Statement;

pub(crate) struct Row {
    pub s: Statement,
    pub url: String,
    pub time: String,
    pub time_iso: String,
    pub texts: Vec<(String, String)>,
    /// The exact text, for endorsing.
    pub text: String,
    pub can_endorse: bool,
    /// What `hotline verify` says of its bundle (statement pages only).
    pub verdict: Option<(bool, String)>,
}

fn row(c: &Console, op: &Op, s: Statement) -> Row {
    let content = parse_id(&s.id).and_then(|(party, index)| {
        let e = c.records.entry(&party, index).ok()?;
        c.records.open_for(&e, &|o| op.acts_for(o)).into_content()
    });
    Row {
        url: format!("/statements/{}", s.id),
        time: when(s.time),
        time_iso: s.time.to_string(),
        texts: content.as_ref().map(texts).unwrap_or_default(),
        text: content.map(|x| x.text).unwrap_or_default(),
        can_endorse: s.endorsement.is_none() && op.acts_for_name(&s.to),
        verdict: None,
        s,
    }
}

#[derive(Template)]
#[template(path = "console/statements.html")]
struct ListPage {
    p: Chrome,
    rows: Vec<Row>,
    channels: Vec<Channel>,
    channel: String,
    text: String,
    lang: String,
    errors: Vec<String>,
}

async fn render_list(
    c: &Console,
    op: Op,
    (channel, text, lang): (String, String, String),
    errors: Vec<String>,
    status: StatusCode,
    done: Option<String>,
) -> Result<Response, PageError> {
    render_page(c, status, move |c2| {
        let rows = c2
            .node
            .statements()?
            .into_iter()
            .filter(|s| op.acts_for_name(&s.from) || op.acts_for_name(&s.to))
            .map(|s| row(&c2, &op, s))
            .collect();
        let channels = channels_for(&c2, &op)?
            .into_iter()
            .filter(|ch| ch.allows(Kind::Statement))
            .collect();
        Ok(ListPage {
            p: Chrome::new(&c2, &op, "statements", "Joint statements").flash(done),
            rows,
            channels,
            channel,
            text,
            lang,
            errors,
        })
    })
    .await
}

/// `GET /statements`.
pub(crate) async fn list(
    State(c): State<Console>,
    op: Op,
    Query(d): Query<Done>,
) -> Result<Response, PageError> {
    let typed = (String::new(), String::new(), String::new());
    render_list(&c, op, typed, vec![], StatusCode::OK, d.done).await
}

/// `POST /statements`: propose.
pub(crate) async fn propose(
    State(c): State<Console>,
    op: Op,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    op.check_csrf(&field(&pairs, "csrf"))?;
    // Browsers send a textarea's line ends as CR LF; a statement is signed
    // by its SHA-256, so keep plain LF as a text file written elsewhere has.
    let (channel, text, lang) = (
        field(&pairs, "channel"),
        field(&pairs, "text").replace("\r\n", "\n"),
        field(&pairs, "lang"),
    );
    let pair = channel
        .split_once(' ')
        .and_then(|(a, b)| Some((Office::new(a).ok()?, Office::new(b).ok()?)));
    let Some((from, to)) = pair else {
        let errors = vec!["Choose the channel: who proposes, and to whom.".to_owned()];
        let typed = (channel, text, lang);
        return render_list(&c, op, typed, errors, StatusCode::BAD_REQUEST, None).await;
    };
    op.must_act_for(&from, "Proposing a statement")?;
    let typed = super::compose::Typed {
        text: text.clone(),
        lang: lang.clone(),
        ..Default::default()
    };
    let content = match super::compose::content_from(&Default::default(), &typed, None) {
        Ok(x) => x,
        Err(errors) => {
            let typed = (channel, text, lang);
            return render_list(&c, op, typed, errors, StatusCode::BAD_REQUEST, None).await;
        }
    };
    match c.node.statement(&from, &to, content).await {
        Ok(a) => {
            let id = c.own_id(a.index);
            Ok(flash(
                &format!("/statements/{id}"),
                &format!(
                    "Statement {id} proposed to {to}; it is joint once {to} endorses the same text."
                ),
            ))
        }
        Err(e) => {
            let (status, e) = refusal(e)?;
            let errors = vec![format!("Not proposed: {e}")];
            render_list(&c, op, (channel, text, lang), errors, status, None).await
        }
    }
}

/// The statement `id`, if the operator acts for one of its two offices.
fn visible(c: &Console, op: &Op, id: &str) -> Result<Statement, NodeError> {
    let s = c
        .node
        .statements()?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| NodeError::NotFound(format!("no statement {id} is held here")))?;
    op.side(&format!("statement {id}"), &s.from, &s.to)?;
    Ok(s)
}

#[derive(Template)]
#[template(path = "console/statement.html")]
struct Page {
    p: Chrome,
    r: Row,
}

/// `GET /statements/{id}`: the text, both signatures, and what the bundle proves.
pub(crate) async fn page(
    State(c): State<Console>,
    op: Op,
    Path(id): Path<String>,
    Query(d): Query<Done>,
) -> Result<Response, PageError> {
    check_id(&id, "a statement")?;
    render_page(&c, StatusCode::OK, move |c2| {
        let s = visible(&c2, &op, &id)?;
        let mut r = row(&c2, &op, s);
        let made = c2.records.proofs().and_then(|src| src.statement(&id));
        r.verdict = Some(match made {
            Ok(b) => match bundle::verify(b.as_bytes(), &super::evidence::keyring(&c2)) {
                Ok(v) => (true, v.sentence()),
                Err(e) => (false, format!("REFUSED by the verifier: {e}")),
            },
            Err(e) => (false, format!("not available: {e}")),
        });
        Ok(Page {
            p: Chrome::new(&c2, &op, "statements", format!("Statement {id}")).flash(d.done),
            r,
        })
    })
    .await
}

/// `POST /statements/{id}/endorse`: endorse the text shown. The form
/// carries the digest the operator saw, not the text: the text is opened
/// from the statement itself, so what is endorsed is byte for byte what was
/// proposed (a browser would turn its line ends into CR LF).
pub(crate) async fn endorse(
    State(c): State<Console>,
    op: Op,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    op.check_csrf(&field(&pairs, "csrf"))?;
    check_id(&id, "a statement")?;
    let seen = field(&pairs, "digest");
    let (c2, op2, id2) = (c.clone(), op, id.clone());
    let text = blocking(move || {
        let s = visible(&c2, &op2, &id2)?;
        if !op2.acts_for_name(&s.to) {
            return Err(PageError::forbidden(format!(
                "statement {id2} asks {} to endorse it; you act for {}",
                s.to,
                op2.operator
                    .offices
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if seen != s.digest {
            return Err(PageError::new(
                StatusCode::CONFLICT,
                format!(
                    "the text you were shown (SHA-256 {seen}) is not statement {id2}'s ({}); reload the page and read it again",
                    s.digest
                ),
            ));
        }
        Ok(row(&c2, &op2, s).text)
    })
    .await?;
    let a = c.node.endorse(&id, &text).await?;
    Ok(flash(
        &format!("/statements/{id}"),
        &format!(
            "Endorsed {id} (entry {}): the statement is joint.",
            c.own_id(a.index)
        ),
    ))
}

/// `GET /statements/{id}/proof`: the `hotline/statement/v2` bundle.
pub(crate) async fn proof(
    State(c): State<Console>,
    op: Op,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    check_id(&id, "a statement")?;
    let c2 = c.clone();
    let id2 = id.clone();
    let b = blocking(move || {
        visible(&c2, &op, &id2)?;
        Ok(c2.records.proofs()?.statement(&id2)?)
    })
    .await?;
    let file = format!("{}-statement.json", id.replace(':', "-"));
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/json".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        b,
    )
        .into_response())
}
