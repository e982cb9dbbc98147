//! Agreements: every operator can read them; an admin of the party
//! proposes (terms in the same TOML as `hotline agreement propose --file`),
//! signs the other side's proposals, and withdraws.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hotline_proto::agreement::{Agreement, State as AState};
use serde::Deserialize;

use super::Console;
use super::auth::{CsrfForm, Op};
use super::view::{
    Chrome, Done, PageError, check_id, entry_url, flash, refusal, render_page, when,
};

pub(crate) struct Row {
    pub a: Agreement,
    pub state: String,
    pub state_class: &'static str,
    pub url: String,
    pub proposed: String,
    pub signed: String,
    pub channels: Vec<String>,
    pub can_sign: bool,
    pub can_withdraw: bool,
    pub terms_toml: String,
    pub evidence: String,
}

fn row(c: &Console, a: Agreement) -> Row {
    let now = hotline_node::clock::now();
    let st = a.state(now);
    let own = c.node.party();
    Row {
        state: match st {
            AState::Proposed => "proposed, awaiting signature",
            AState::Pending => "signed; starts later",
            AState::InForce => "in force",
            AState::Withdrawn => "withdrawn",
            AState::Expired => "expired",
        }
        .into(),
        state_class: match st {
            AState::InForce => "ok",
            AState::Proposed | AState::Pending => "pending",
            _ => "muted",
        },
        url: format!("/agreements/{}", a.id),
        evidence: entry_url(&a.id),
        proposed: format!("{} by {}", when(a.proposed_at), a.proposer),
        signed: a
            .signed_at
            .map(|t| format!("{} by {}", when(t), a.counterparty))
            .unwrap_or_else(|| "not yet".into()),
        channels: a
            .terms
            .channels
            .iter()
            .map(|ch| {
                format!(
                    "{} ↔ {}: {}",
                    ch.offices[0],
                    ch.offices[1],
                    ch.kinds
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .collect(),
        can_sign: st == AState::Proposed && a.counterparty == *own,
        can_withdraw: matches!(st, AState::InForce | AState::Pending)
            && a.withdrawn.is_none()
            && (a.proposer == *own || a.counterparty == *own),
        terms_toml: hotline_node::terms_file::render(&a.terms),
        a,
    }
}

#[derive(Template)]
#[template(path = "console/agreements.html")]
struct ListPage {
    p: Chrome,
    rows: Vec<Row>,
    terms: String,
    errors: Vec<String>,
}

async fn render_list(
    c: &Console,
    op: Op,
    terms: String,
    errors: Vec<String>,
    status: StatusCode,
    done: Option<String>,
) -> Result<Response, PageError> {
    render_page(c, status, move |c2| {
        let rows = c2
            .node
            .agreements()?
            .into_iter()
            .rev()
            .map(|a| row(&c2, a))
            .collect();
        Ok(ListPage {
            p: Chrome::new(&c2, &op, "agreements", "Agreements").flash(done),
            rows,
            terms,
            errors,
        })
    })
    .await
}

/// `GET /agreements`.
pub(crate) async fn list(
    State(c): State<Console>,
    op: Op,
    Query(d): Query<Done>,
) -> Result<Response, PageError> {
    render_list(&c, op, String::new(), vec![], StatusCode::OK, d.done).await
}

#[derive(Template)]
#[template(path = "console/agreement.html")]
struct Page {
    p: Chrome,
    r: Row,
}

/// `GET /agreements/{id}`.
pub(crate) async fn page(
    State(c): State<Console>,
    op: Op,
    Path(id): Path<String>,
    Query(d): Query<Done>,
) -> Result<Response, PageError> {
    check_id(&id, "an agreement")?;
    render_page(&c, StatusCode::OK, move |c2| {
        let a = c2.node.agreement(&id)?;
        Ok(Page {
            p: Chrome::new(&c2, &op, "agreements", format!("Agreement {id}")).flash(d.done),
            r: row(&c2, a),
        })
    })
    .await
}

#[derive(Deserialize)]
pub(crate) struct ProposeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    terms: String,
}

/// `POST /agreements`: propose.
pub(crate) async fn propose(
    State(c): State<Console>,
    op: Op,
    Form(f): Form<ProposeForm>,
) -> Result<Response, PageError> {
    op.check_csrf(&f.csrf)?;
    op.must_be_admin("Proposing an agreement")?;
    let terms = match hotline_node::terms_file::parse(&f.terms) {
        Ok(t) => t,
        Err(e) => {
            let errors = vec![format!("The terms need fixing: {e}")];
            return render_list(&c, op, f.terms, errors, StatusCode::BAD_REQUEST, None).await;
        }
    };
    match c.node.propose_agreement(terms).await {
        Ok(a) => {
            let id = c.own_id(a.index);
            Ok(flash(
                &format!("/agreements/{id}"),
                &format!("Proposed {id}. It is in force once the other party signs it."),
            ))
        }
        Err(e) => {
            let (status, e) = refusal(e)?;
            let errors = vec![format!("Not proposed: {e}")];
            render_list(&c, op, f.terms, errors, status, None).await
        }
    }
}

/// Checks a form posted on agreement `id`: its CSRF token, that the
/// operator is an admin (`doing` says what needs one), and the id.
fn admin_form(op: &Op, csrf: &str, id: &str, doing: &str) -> Result<(), PageError> {
    op.check_csrf(csrf)?;
    op.must_be_admin(doing)?;
    check_id(id, "an agreement")
}

/// `POST /agreements/{id}/sign`.
pub(crate) async fn sign(
    State(c): State<Console>,
    op: Op,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    admin_form(&op, &f.csrf, &id, "Signing an agreement")?;
    let a = c.node.sign_agreement(&id).await?;
    Ok(flash(
        &format!("/agreements/{id}"),
        &format!("Signed {id} (entry {}).", c.own_id(a.index)),
    ))
}

/// `POST /agreements/{id}/withdraw`.
pub(crate) async fn withdraw(
    State(c): State<Console>,
    op: Op,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    admin_form(&op, &f.csrf, &id, "Withdrawing from an agreement")?;
    let (_, effective) = c.node.withdraw_agreement(&id).await?;
    Ok(flash(
        &format!("/agreements/{id}"),
        &format!(
            "Withdrawal from {id} written; the agreement stops at {}.",
            when(effective)
        ),
    ))
}
