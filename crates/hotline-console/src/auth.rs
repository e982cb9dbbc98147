//! Who is at the keyboard: login, the session cookie, CSRF tokens, and the
//! rule that an operator acts only for their own offices.
//!
//! The session cookie is `Secure; HttpOnly; SameSite=Strict`: browsers keep
//! secure cookies on `http://localhost` and `http://127.0.0.1` as well as
//! over HTTPS, so the same flags hold on a loopback console and behind a TLS
//! proxy. Every form carries the session's CSRF token, and a request whose
//! `Origin` names another site is refused before any handler runs.

use askama::Template;
use axum::Form;
use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use hotline_proto::party::Office;
use serde::Deserialize;

use super::Console;
use super::view::{PageError, html_status, see_other, urlencode};
use crate::operators::{LoginError, Operator, Refusal};

/// The session cookie's name, per party: browsers share cookies between
/// ports of one host, so two nodes on one machine (the demo, a test) must
/// not overwrite each other's sessions.
fn session_cookie(c: &Console) -> String {
    format!("hotline_session_{}", c.node.party())
}

/// The login form's own CSRF cookie (there is no session yet to hold one).
fn login_cookie(c: &Console) -> String {
    format!("hotline_login_{}", c.node.party())
}

/// A signed-in operator, with the session's CSRF token.
pub(crate) struct Op {
    pub operator: Operator,
    pub csrf: String,
    /// The session token, so long-lived responses can re-check the session.
    pub token: String,
}

impl Op {
    /// Whether the operator acts for `office`.
    pub fn acts_for(&self, office: &Office) -> bool {
        self.operator.offices.contains(office)
    }
    /// The same, for an office named in text.
    pub fn acts_for_name(&self, office: &str) -> bool {
        self.operator.offices.iter().any(|o| o.as_str() == office)
    }
    /// Refuses unless the operator acts for `office`.
    pub fn must_act_for(&self, office: &Office, what: &str) -> Result<(), PageError> {
        if self.acts_for(office) {
            Ok(())
        } else {
            Err(PageError::forbidden(format!(
                "{what} is for {office}, and you ({}) act only for {}. Ask an operator of {office}.",
                self.operator.name,
                self.offices()
            )))
        }
    }
    /// The operator's side of something between offices `a` and `b`:
    /// (ours, theirs), `a` first when they act for both; refused, naming
    /// both offices, when they act for neither.
    pub fn side<'s>(
        &self,
        what: &str,
        a: &'s str,
        b: &'s str,
    ) -> Result<(&'s str, &'s str), hotline_node::error::NodeError> {
        if self.acts_for_name(a) {
            Ok((a, b))
        } else if self.acts_for_name(b) {
            Ok((b, a))
        } else {
            Err(hotline_node::error::NodeError::Forbidden(format!(
                "{what} is between {a} and {b}; you act for neither"
            )))
        }
    }
    /// Refuses unless the operator is an admin of the party.
    pub fn must_be_admin(&self, what: &str) -> Result<(), PageError> {
        if self.operator.admin {
            Ok(())
        } else {
            Err(PageError::forbidden(format!(
                "{what} needs an admin of this party; you ({}) are an operator of {}.",
                self.operator.name,
                self.offices()
            )))
        }
    }
    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, given: &str) -> Result<(), PageError> {
        if given.len() == self.csrf.len() && constant_eq(given.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(PageError::forbidden(
                "This form did not come from your current console session (its CSRF token does not match). \
                 Reload the page and send it again.",
            ))
        }
    }
    fn offices(&self) -> String {
        self.operator
            .offices
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// 32 random bytes, hex: the login form's CSRF token.
fn random_token() -> String {
    use rand_core::RngCore as _;
    let mut b = [0u8; 32];
    hotline_proto::keys::os_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

fn set_cookie(name: &str, value: String, max_age: Option<i64>) -> HeaderValue {
    let mut c = Cookie::build((name.to_owned(), value))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .build();
    if let Some(s) = max_age {
        c.set_max_age(cookie::time::Duration::seconds(s));
    }
    HeaderValue::from_str(&c.to_string()).unwrap_or(HeaderValue::from_static(""))
}

impl FromRequestParts<Console> for Op {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, c: &Console) -> Result<Self, Response> {
        let to_login = |parts: &Parts| {
            if parts.method == Method::GET && parts.uri.path() != "/events" {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_else(|| "/".into());
                see_other(&format!("/login?next={}", urlencode(&next)))
            } else {
                PageError::new(
                    StatusCode::UNAUTHORIZED,
                    "You are not signed in, or your session has ended. Sign in again at /login.",
                )
                .into_response()
            }
        };
        let Some(token) = cookie_value(&parts.headers, &session_cookie(c)) else {
            return Err(to_login(parts));
        };
        let ops = c.operators.clone();
        let now = hotline_node::clock::now();
        let t2 = token.clone();
        let found = tokio::task::spawn_blocking(move || ops.session(&t2, now))
            .await
            .map_err(|e| PageError::internal(e).into_response())?
            .map_err(|e| PageError::from(e).into_response())?;
        match found {
            Some(s) => Ok(Op {
                operator: s.operator,
                csrf: s.csrf,
                token,
            }),
            None => Err(to_login(parts)),
        }
    }
}

/// Only same-site form posts: a state-changing request whose `Origin` (or,
/// failing that, `Sec-Fetch-Site`) shows another site is refused outright.
pub(crate) async fn same_origin(req: Request, next: Next) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let h = req.headers();
        let host = h.get(header::HOST).and_then(|v| v.to_str().ok());
        let origin = h.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let cross = match (origin, host) {
            (Some("null"), _) => true,
            (Some(o), Some(host)) => o.split_once("://").map(|(_, rest)| rest) != Some(host),
            (Some(_), None) => true,
            (None, _) => h
                .get("sec-fetch-site")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|s| s == "cross-site"),
        };
        if cross {
            return PageError::forbidden(
                "This request came from another site. Use the console's own pages to act.",
            )
            .into_response();
        }
    }
    next.run(req).await
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    v: &'static str,
    party: String,
    name: String,
    next: String,
    csrf: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct NextQuery {
    #[serde(default)]
    next: Option<String>,
}

/// Where a login may send the browser next: only a path of this console.
/// Browsers drop tabs and newlines from URLs and read `\\` as `/`, so
/// `/\t/evil.example` or `/\\evil.example` would leave the site: anything
/// but printable ASCII, any backslash, and a second leading slash give `/`.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.len() <= 2048
                && n.starts_with('/')
                && !n.starts_with("//")
                && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            n.to_owned()
        }
        _ => "/".into(),
    }
}

/// The client's address, when the connection is TCP.
fn client_ip(parts: &axum::http::Extensions) -> Option<std::net::IpAddr> {
    parts
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The sign-in page. A refusal keeps the form's CSRF token (it matched its
/// cookie), so that two refusals differ only in the name typed.
fn login_form(
    c: &Console,
    status: StatusCode,
    name: String,
    next: String,
    error: Option<String>,
    csrf: Option<String>,
) -> Result<Response, PageError> {
    let csrf = csrf.unwrap_or_else(random_token);
    let mut r = html_status(
        status,
        &LoginPage {
            v: super::view::ASSET_VERSION,
            party: c.node.party().to_string(),
            name,
            next,
            csrf: csrf.clone(),
            error,
        },
    )?;
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&login_cookie(c), csrf, Some(3600)),
    );
    Ok(r)
}

/// `GET /login`.
pub(crate) async fn login_page(
    State(c): State<Console>,
    Query(q): Query<NextQuery>,
) -> Result<Response, PageError> {
    login_form(
        &c,
        StatusCode::OK,
        String::new(),
        safe_next(q.next.as_deref()),
        None,
        None,
    )
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /login`.
pub(crate) async fn login(
    State(c): State<Console>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    Form(f): Form<LoginForm>,
) -> Result<Response, PageError> {
    let next = safe_next(f.next.as_deref());
    let expected = cookie_value(&headers, &login_cookie(&c)).unwrap_or_default();
    if expected.is_empty()
        || expected.len() != f.csrf.len()
        || !constant_eq(expected.as_bytes(), f.csrf.as_bytes())
    {
        return login_form(
            &c,
            StatusCode::FORBIDDEN,
            f.name,
            next,
            Some("This sign-in form has expired or did not come from this console. Sign in again below.".into()),
            None,
        );
    }
    let name = f.name.trim().to_owned();
    if name.is_empty() || f.password.is_empty() {
        return login_form(
            &c,
            StatusCode::BAD_REQUEST,
            name,
            next,
            Some("Enter both your operator name and your password.".into()),
            Some(f.csrf),
        );
    }
    let ip = client_ip(&extensions);
    let wait = |w: super::throttle::Wait, name: String, next: String, csrf: String| {
        let msg = match w {
            super::throttle::Wait::Address(_) => format!(
                "Too many failed sign-ins from your address. Wait {} s and sign in again. \
                 Operators who are signed in are not affected, and other addresses can still sign in.",
                w.secs()
            ),
            super::throttle::Wait::Busy(_) => {
                "The node is checking many sign-ins at once. Sign in again in a moment.".to_owned()
            }
        };
        tracing::warn!(operator = %name, client = ?ip, "console sign-in throttled");
        let mut r = login_form(
            &c,
            StatusCode::TOO_MANY_REQUESTS,
            name,
            next,
            Some(msg),
            Some(csrf),
        )?;
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(w.secs()));
        Ok::<_, PageError>(r)
    };
    let charge = match c.throttle.admit(ip, std::time::Instant::now()) {
        Ok(ch) => ch,
        Err(w) => return wait(w, name, next, f.csrf),
    };
    let turn = match c.throttle.check().await {
        Ok(t) => t,
        Err(w) => return wait(w, name, next, f.csrf),
    };
    let ops = c.operators.clone();
    let (n2, pw) = (name.clone(), f.password);
    let now = hotline_node::clock::now();
    let r = turn.run(move || ops.attempt(&n2, &pw, now)).await?;
    if let Err(Refusal::WrongPassword(n)) = &r {
        // Counted after answering, so that a real name is not told apart
        // from an unknown one by the time the count takes to write.
        let (ops, n) = (c.operators.clone(), n.clone());
        tokio::task::spawn_blocking(move || {
            if let Err(e) = ops.count_failure(&n) {
                tracing::warn!(operator = %n, error = %e, "could not count a failed sign-in");
            }
        });
    }
    match r.map_err(LoginError::from) {
        Ok(s) => {
            c.throttle.refund(charge, std::time::Instant::now());
            tracing::info!(operator = %name, "console sign-in");
            let mut resp = see_other(&next);
            let max = (s.expires.as_second() - now.as_second()).max(60);
            resp.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(&session_cookie(&c), s.token, Some(max)),
            );
            resp.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(&login_cookie(&c), String::new(), Some(0)),
            );
            Ok(resp)
        }
        Err(LoginError::Failed(e)) => Err(PageError::internal(e)),
        Err(e) => {
            tracing::warn!(operator = %name, client = ?ip, error = %e, "console sign-in refused");
            login_form(
                &c,
                StatusCode::UNAUTHORIZED,
                name,
                next,
                Some(format!("Not signed in: {e}.")),
                Some(f.csrf),
            )
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// `POST /logout`.
pub(crate) async fn logout(
    State(c): State<Console>,
    headers: HeaderMap,
    op: Op,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    op.check_csrf(&f.csrf)?;
    if let Some(token) = cookie_value(&headers, &session_cookie(&c)) {
        let ops = c.operators.clone();
        tokio::task::spawn_blocking(move || ops.logout(&token)).await??;
    }
    let mut r = see_other("/login");
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&session_cookie(&c), String::new(), Some(0)),
    );
    Ok(r)
}
