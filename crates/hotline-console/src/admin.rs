//! Operators, managed by an admin of the party: add (with a first
//! password), clear the count of failed sign-ins, remove.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hotline_proto::party::Office;

use super::Console;
use super::auth::{CsrfForm, Op};
use super::view::{Chrome, Done, PageError, blocking, field, flash, refusal, render_page};
use crate::operators::Operator;

pub(crate) struct Row {
    pub o: Operator,
    pub offices: String,
}

#[derive(Default)]
pub(crate) struct Typed {
    pub name: String,
    pub offices: Vec<String>,
    pub admin: bool,
}

#[derive(Template)]
#[template(path = "console/operators.html")]
struct Page {
    p: Chrome,
    rows: Vec<Row>,
    all_offices: Vec<String>,
    t: Typed,
    errors: Vec<String>,
}

async fn render(
    c: &Console,
    op: Op,
    t: Typed,
    errors: Vec<String>,
    status: StatusCode,
    done: Option<String>,
) -> Result<Response, PageError> {
    op.must_be_admin("Managing operators")?;
    render_page(c, status, move |c2| {
        let rows = c2
            .operators
            .list()?
            .into_iter()
            .map(|o| Row {
                offices: o
                    .offices
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                o,
            })
            .collect();
        Ok(Page {
            p: Chrome::new(&c2, &op, "operators", "Operators").flash(done),
            rows,
            all_offices: c2.node.offices().iter().map(ToString::to_string).collect(),
            t,
            errors,
        })
    })
    .await
}

/// `GET /operators`.
pub(crate) async fn page(
    State(c): State<Console>,
    op: Op,
    Query(d): Query<Done>,
) -> Result<Response, PageError> {
    render(&c, op, Typed::default(), vec![], StatusCode::OK, d.done).await
}

/// `POST /operators`: the form's fields, with offices repeated.
pub(crate) async fn add(
    State(c): State<Console>,
    op: Op,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let get = |k: &str| field(&pairs, k);
    op.check_csrf(&get("csrf"))?;
    op.must_be_admin("Adding an operator")?;
    let t = Typed {
        name: get("name").trim().to_owned(),
        offices: pairs
            .iter()
            .filter(|(k, _)| k == "offices")
            .map(|(_, v)| v.clone())
            .collect(),
        admin: get("admin") == "on",
    };
    let (password, again) = (get("password"), get("password2"));
    let mut errors = Vec::new();
    if password != again {
        errors.push("The two passwords differ: type the same password twice.".to_owned());
    }
    let offices: Vec<Office> = t
        .offices
        .iter()
        .filter_map(|o| Office::new(o).ok())
        .collect();
    if offices.is_empty() {
        errors.push("Tick at least one office the operator acts for.".to_owned());
    }
    if !errors.is_empty() {
        return render(&c, op, t, errors, StatusCode::BAD_REQUEST, None).await;
    }
    let (ops, name, admin) = (c.operators.clone(), t.name.clone(), t.admin);
    let r = tokio::task::spawn_blocking(move || ops.add(&name, &offices, admin, &password)).await?;
    match r {
        Ok(o) => Ok(flash("/operators", &format!("Operator {} added.", o.name))),
        Err(e) => {
            let (status, e) = refusal(e)?;
            render(&c, op, t, vec![format!("Not added: {e}")], status, None).await
        }
    }
}

async fn act(
    c: Console,
    op: Op,
    name: String,
    csrf: &str,
    what: &'static str,
) -> Result<Response, PageError> {
    op.check_csrf(csrf)?;
    op.must_be_admin("Managing operators")?;
    if what == "remove" && name == op.operator.name {
        return Err(PageError::new(
            StatusCode::CONFLICT,
            "You cannot remove yourself; ask another admin, or use `hotline operator remove`.",
        ));
    }
    let (ops, n2) = (c.operators.clone(), name.clone());
    blocking(move || -> Result<(), PageError> {
        if what == "remove" {
            Ok(ops.remove(&n2)?)
        } else {
            Ok(ops.unlock(&n2)?)
        }
    })
    .await?;
    let done = if what == "remove" {
        format!("Operator {name} removed; their sessions are ended.")
    } else {
        format!("Operator {name}'s failed sign-ins cleared.")
    };
    Ok(flash("/operators", &done))
}

/// `POST /operators/{name}/unlock`.
pub(crate) async fn unlock(
    State(c): State<Console>,
    op: Op,
    Path(name): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    act(c, op, name, &f.csrf, "unlock").await
}

/// `POST /operators/{name}/remove`.
pub(crate) async fn remove(
    State(c): State<Console>,
    op: Op,
    Path(name): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    act(c, op, name, &f.csrf, "remove").await
}
