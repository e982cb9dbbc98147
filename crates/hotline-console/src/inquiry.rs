//! Inquiries: the list with their deadlines, and one inquiry's page where
//! the receiving office acknowledges and answers and the sending office
//! closes — each button exactly one signed entry in this party's log.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hotline_proto::agreement::parse_id;
use hotline_proto::party::Office;

use super::Console;
use super::auth::{CsrfForm, Op};
use super::compose::{FormData, Typed, content_from};
use super::timeline::{deadline_words, stix_summary};
use super::view::{
    AttachmentView, Chrome, Done, PageError, attachment_views, blocking, check_id, entry_url,
    flash, refusal, render_page, texts, when,
};
use hotline_node::error::NodeError;
use hotline_node::inquiries::Inquiry;

/// One inquiry in a list.
pub(crate) struct Row {
    pub q: Inquiry,
    pub url: String,
    pub incoming: bool,
    pub sent: String,
    pub deadline: String,
}

#[derive(Template)]
#[template(path = "console/inquiries.html")]
struct ListPage {
    p: Chrome,
    rows: Vec<Row>,
}

/// `GET /inquiries`.
pub(crate) async fn list(State(c): State<Console>, op: Op) -> Result<Response, PageError> {
    render_page(&c, StatusCode::OK, move |c2| {
        let now = hotline_node::clock::now();
        let mut rows: Vec<Row> = c2
            .node
            .inquiries()?
            .into_iter()
            .filter(|q| op.acts_for_name(&q.from) || op.acts_for_name(&q.to))
            .map(|q| {
                let (d, _) = deadline_words(&q, now);
                Row {
                    url: format!("/inquiries/{}", q.id),
                    incoming: op.acts_for_name(&q.to),
                    sent: when(q.sent),
                    deadline: d.unwrap_or_default(),
                    q,
                }
            })
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse((r.q.overdue, r.q.sent)));
        Ok(ListPage {
            p: Chrome::new(&c2, &op, "inquiries", "Inquiries"),
            rows,
        })
    })
    .await
}

/// An entry's content as the page shows it.
pub(crate) struct Shown {
    pub id: String,
    pub url: String,
    pub from: String,
    pub time: String,
    pub time_iso: String,
    pub subject: Option<String>,
    pub texts: Vec<(String, String)>,
    pub attachments: Vec<AttachmentView>,
    pub stix: Option<String>,
    pub readable: bool,
    /// `refused: …` when the content was refused (and is not shown).
    pub refused: Option<String>,
}

fn shown(c: &Console, op: &Op, id: &str) -> Result<Shown, NodeError> {
    let (party, index) =
        parse_id(id).ok_or_else(|| NodeError::BadInput(format!("{id:?} is not an entry id")))?;
    let e = c.records.entry(&party, index)?;
    let shown = c.records.open_for(&e, &|o| op.acts_for(o));
    let refused = shown.refusal();
    let content = shown.into_content();
    let url = entry_url(id);
    let h = e.header();
    Ok(Shown {
        id: id.to_owned(),
        from: h.from.clone(),
        time: when(h.time),
        time_iso: h.time.to_string(),
        readable: content.is_some() || refused.is_some(),
        refused,
        subject: content.as_ref().and_then(|x| x.subject.clone()),
        texts: content.as_ref().map(texts).unwrap_or_default(),
        attachments: content
            .as_ref()
            .map(|x| attachment_views(x, &url))
            .unwrap_or_default(),
        stix: content
            .as_ref()
            .and_then(|x| x.stix.as_ref())
            .map(stix_summary),
        url,
    })
}

#[derive(Template)]
#[template(path = "console/inquiry.html")]
struct Page {
    p: Chrome,
    q: Inquiry,
    asked: Shown,
    answers: Vec<Shown>,
    deadline: String,
    delivered: String,
    acknowledged: String,
    /// The operator acts for the receiving office.
    can_reply: bool,
    /// The operator acts for the sending office.
    can_close: bool,
    open: bool,
    t: Typed,
    errors: Vec<String>,
    languages: Vec<String>,
}

async fn render(
    c: &Console,
    op: Op,
    id: String,
    t: Typed,
    errors: Vec<String>,
    status: StatusCode,
    done: Option<String>,
) -> Result<Response, PageError> {
    render_page(c, status, move |c2| {
        let now = hotline_node::clock::now();
        let q = c2.node.inquiry(&id)?;
        op.side(&id, &q.from, &q.to)?;
        let asked = shown(&c2, &op, &q.id)?;
        let answers = q
            .answers
            .iter()
            .map(|(a, _)| shown(&c2, &op, a))
            .collect::<Result<Vec<_>, _>>()?;
        let (deadline, _) = deadline_words(&q, now);
        let languages = q
            .agreement
            .as_deref()
            .and_then(|a| c2.node.agreement(a).ok())
            .map(|a| a.terms.languages)
            .unwrap_or_default();
        Ok(Page {
            p: Chrome::new(&c2, &op, "inquiries", format!("Inquiry {id}")).flash(done),
            deadline: deadline.unwrap_or_default(),
            delivered: match &q.delivered {
                Some((t, s)) => format!("{s} at {}", when(*t)),
                None => "no receipt yet".into(),
            },
            acknowledged: match (q.acknowledged, q.ack_due) {
                (Some(t), Some(d)) if t > d => format!("{} (late: due {})", when(t), when(d)),
                (Some(t), _) => when(t),
                (None, Some(d)) => format!("not yet; due {}", when(d)),
                (None, None) => "not yet".into(),
            },
            can_reply: op.acts_for_name(&q.to),
            can_close: op.acts_for_name(&q.from),
            open: q.closed.is_none(),
            asked,
            answers,
            q,
            t,
            errors,
            languages,
        })
    })
    .await
}

/// `GET /inquiries/{id}`.
pub(crate) async fn page(
    State(c): State<Console>,
    op: Op,
    Path(id): Path<String>,
    Query(d): Query<Done>,
) -> Result<Response, PageError> {
    check_id(&id, "an inquiry")?;
    render(&c, op, id, Typed::default(), vec![], StatusCode::OK, d.done).await
}

/// The inquiry, checked to be one the operator may act on as `side`.
async fn for_office(c: &Console, op: &Op, id: &str, recipient: bool) -> Result<Inquiry, PageError> {
    check_id(id, "an inquiry")?;
    let (n, id2) = (c.node.clone(), id.to_owned());
    let q = blocking(move || Ok(n.inquiry(&id2)?)).await?;
    let office = if recipient { &q.to } else { &q.from };
    let office = Office::new(office).map_err(PageError::internal)?;
    op.must_act_for(
        &office,
        if recipient {
            "Acknowledging or answering this inquiry"
        } else {
            "Closing this inquiry"
        },
    )?;
    Ok(q)
}

fn back(id: &str, done: &str) -> Response {
    flash(&format!("/inquiries/{id}"), done)
}

/// `POST /inquiries/{id}/ack`.
pub(crate) async fn ack(
    State(c): State<Console>,
    op: Op,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    step(c, op, id, &f.csrf, true).await
}

/// `POST /inquiries/{id}/close`.
pub(crate) async fn close(
    State(c): State<Console>,
    op: Op,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    step(c, op, id, &f.csrf, false).await
}

/// Acknowledges the inquiry (as its recipient) or closes it (as the one
/// who asked).
async fn step(
    c: Console,
    op: Op,
    id: String,
    csrf: &str,
    acknowledge: bool,
) -> Result<Response, PageError> {
    op.check_csrf(csrf)?;
    for_office(&c, &op, &id, acknowledge).await?;
    let (a, done) = if acknowledge {
        (c.node.ack(&id).await?, "Acknowledged")
    } else {
        (c.node.close(&id).await?, "Closed")
    };
    Ok(back(
        &id,
        &format!("{done} {id} (entry {}).", c.own_id(a.index)),
    ))
}

/// `POST /inquiries/{id}/answer`.
pub(crate) async fn answer(
    State(c): State<Console>,
    op: Op,
    Path(id): Path<String>,
    m: Multipart,
) -> Result<Response, PageError> {
    let f = FormData::read(m).await?;
    op.check_csrf(&f.get("csrf"))?;
    for_office(&c, &op, &id, true).await?;
    let t = Typed::from_form(&f);
    let again = |mut problems: Vec<String>| {
        if !f.files.is_empty() {
            problems.push(
                "Choose your files again: a browser cannot keep them across a refused form.".into(),
            );
        }
        problems
    };
    let content = match content_from(&f, &t, None) {
        Ok(x) => x,
        Err(problems) => {
            let p = again(problems);
            return render(&c, op, id, t, p, StatusCode::BAD_REQUEST, None).await;
        }
    };
    match c.node.answer(&id, content).await {
        Ok(a) => Ok(back(&id, &format!("Answer {} sent.", c.own_id(a.index)))),
        Err(e) => {
            let (status, e) = refusal(e)?;
            let p = again(vec![format!("Not sent: {e}")]);
            render(&c, op, id, t, p, status, None).await
        }
    }
}
