//! What every page shares: the frame around it (who is logged in, the
//! alarms that must never scroll out of sight), errors as pages, times,
//! links and form fields.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use hotline_proto::entry::Content;
use jiff::Timestamp;

use super::Console;
use super::auth::Op;
use crate::operators::OperatorError;
use crate::throttle::CheckersGone;
use hotline_node::error::NodeError;
use hotline_node::records::AlarmKind;

/// The build's version, in asset URLs so that a cached stylesheet or
/// script never outlives the binary that served it.
pub(crate) const ASSET_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The frame of every signed-in page.
pub(crate) struct Chrome {
    pub v: &'static str,
    pub party: String,
    pub operator: String,
    pub offices: String,
    pub admin: bool,
    pub csrf: String,
    /// Which navigation item is current.
    pub nav: &'static str,
    pub title: String,
    /// Overdue inquiries of the operator's offices: (id, what is late).
    pub overdue: Vec<(String, String)>,
    /// Equivocation evidence: shown on every page.
    pub alarms: Vec<String>,
    /// Peers that cannot be reached: the banner's sentence and the
    /// technical reason, on every page.
    pub down: Vec<(String, Option<String>)>,
    /// A one-line confirmation of what the last action did.
    pub flash: Option<String>,
}

impl Chrome {
    /// Builds the frame for `op`, reading the alarms fresh.
    pub fn new(c: &Console, op: &Op, nav: &'static str, title: impl Into<String>) -> Self {
        let overdue = overdue_for(c, op).unwrap_or_default();
        let alarms = alarms(c);
        Self {
            v: ASSET_VERSION,
            party: c.node.party().to_string(),
            operator: op.operator.name.clone(),
            offices: op
                .operator
                .offices
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            admin: op.operator.admin,
            csrf: op.csrf.clone(),
            nav,
            title: title.into(),
            overdue,
            alarms,
            down: super::needs_action::links_down(c)
                .into_iter()
                .map(|d| (d.words(), d.reason))
                .collect(),
            flash: None,
        }
    }

    /// With a confirmation line.
    pub fn flash(mut self, f: Option<String>) -> Self {
        self.flash = f.filter(|s| !s.is_empty());
        self
    }
}

/// Overdue inquiries that concern the operator's offices.
pub(crate) fn overdue_for(c: &Console, op: &Op) -> Result<Vec<(String, String)>, NodeError> {
    Ok(c.inquiries()?
        .iter()
        .filter(|q| q.overdue && (op.acts_for_name(&q.from) || op.acts_for_name(&q.to)))
        .map(|q| {
            let what = if q.acknowledged.is_none() {
                "not acknowledged in time"
            } else {
                "not answered in time"
            };
            let id = q.id.clone();
            (id, format!("{} {} → {}: {what}", q.id, q.from, q.to))
        })
        .collect())
}

/// Conditions that must be in front of every operator until resolved.
pub(crate) fn alarms(c: &Console) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(list) = c.records.alarms() {
        for e in list {
            let what = match e.kind {
                AlarmKind::IndexMismatch => {
                    "signed a checkpoint whose index is not the index of its entries"
                }
                AlarmKind::TwoHistories => "showed two different histories",
            };
            out.push(format!(
                "EQUIVOCATION: log {} {what} (evidence #{}). Its entries cannot be trusted until this is resolved.",
                e.origin, e.id
            ));
        }
    }
    out
}

/// A page-level failure, shown as a page that says what to do.
pub(crate) struct PageError {
    pub status: StatusCode,
    pub message: String,
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage<'a> {
    v: &'static str,
    status: u16,
    reason: &'a str,
    message: &'a str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            v: ASSET_VERSION,
            status: self.status.as_u16(),
            reason: self.status.canonical_reason().unwrap_or("Error"),
            message: &self.message,
        };
        match page.render() {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(_) => (self.status, self.message).into_response(),
        }
    }
}

impl PageError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "console request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

impl From<NodeError> for PageError {
    fn from(e: NodeError) -> Self {
        let status = hotline_node::api::status::status_of(&e);
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            return Self::internal(e);
        }
        Self::new(status, e.to_string())
    }
}

impl From<OperatorError> for PageError {
    fn from(e: OperatorError) -> Self {
        let status = match &e {
            OperatorError::BadName(_)
            | OperatorError::ShortPassword
            | OperatorError::LongPassword
            | OperatorError::NoOffice(_)
            | OperatorError::OtherParty { .. } => StatusCode::BAD_REQUEST,
            OperatorError::NotFound(_) => StatusCode::NOT_FOUND,
            OperatorError::Taken(_) => StatusCode::CONFLICT,
            OperatorError::Hash(_)
            | OperatorError::BadOffice { .. }
            | OperatorError::Store(_)
            | OperatorError::Config(_) => return Self::internal(e),
        };
        Self::new(status, e.to_string())
    }
}

impl From<CheckersGone> for PageError {
    fn from(e: CheckersGone) -> Self {
        Self::internal(e)
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        Self::internal(e)
    }
}

impl From<tokio::task::JoinError> for PageError {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::internal(e)
    }
}

/// Renders a template as a page.
pub(crate) fn html(t: &impl Template) -> Result<Response, PageError> {
    Ok(Html(t.render()?).into_response())
}

/// Renders a template as a page with a status (forms that need fixing).
pub(crate) fn html_status(status: StatusCode, t: &impl Template) -> Result<Response, PageError> {
    Ok((status, Html(t.render()?)).into_response())
}

/// A 303 to `to`, the answer to every successful form.
pub(crate) fn see_other(to: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(
            header::LOCATION,
            HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/")),
        )],
    )
        .into_response()
}

/// The answer to a successful form: back to `to`, with the one-line
/// confirmation `done` shown there (see [`Done`]).
pub(crate) fn flash(to: &str, done: &str) -> Response {
    see_other(&format!("{to}?done={}", urlencode(done)))
}

/// A page built from blocking reads off the async threads, rendered with
/// `status`.
pub(crate) async fn render_page<T: Template + Send + 'static>(
    c: &Console,
    status: StatusCode,
    build: impl FnOnce(Console) -> Result<T, PageError> + Send + 'static,
) -> Result<Response, PageError> {
    let c = c.clone();
    let page = blocking(move || build(c)).await?;
    html_status(status, &page)
}

/// Runs blocking store work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, PageError> + Send + 'static,
) -> Result<T, PageError> {
    tokio::task::spawn_blocking(f).await?
}

/// Headers every console response carries: nothing from elsewhere may run
/// or frame it, other sites learn nothing of where a link came from, and
/// signed-in pages are not cached. (`same-origin`, not `no-referrer`: with
/// the latter browsers send `Origin: null` on form posts, and the CSRF
/// check needs the real origin.)
pub(crate) async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    r
}

/// `2021-06-18 14:03:05 UTC` (the browser rewrites it into local time and
/// keeps this in the tooltip).
pub(crate) fn when(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A length of time as a person says it: `40 s`, `55 min`, `2 h 5 min`,
/// `3 days`.
pub(crate) fn span(n: u64) -> String {
    if n < 60 {
        format!("{n} s")
    } else if n < 3600 {
        format!("{} min", n / 60)
    } else if n < 86400 * 2 {
        format!("{} h {} min", n / 3600, (n % 3600) / 60)
    } else {
        format!("{} days", n / 86400)
    }
}

/// `5 min ago`, `in 3 h`, for deadlines and cosignature ages.
pub(crate) fn relative(t: Timestamp, now: Timestamp) -> String {
    let secs = now.as_second() - t.as_second();
    let (n, future) = (secs.unsigned_abs(), secs < 0);
    let span = span(n);
    if future {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

/// The texts of a content, the original first, each with its language.
pub(crate) fn texts(content: &Content) -> Vec<(String, String)> {
    let mut out = vec![(
        content.lang.clone().unwrap_or_default(),
        content.text.clone(),
    )];
    for t in &content.translations {
        out.push((t.lang.clone(), t.text.clone()));
    }
    out
}

/// `us/fbi` → the path segments `us/fbi` (office names are already URL-safe).
pub(crate) fn channel_url(ours: &str, theirs: &str) -> String {
    format!("/channels/{ours}/{theirs}")
}

/// The evidence page of an entry.
pub(crate) fn entry_url(id: &str) -> String {
    match id.split_once(':') {
        Some((p, i)) => format!("/entries/{p}/{i}"),
        None => "/".into(),
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
pub(crate) fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, QUERY_VALUE).to_string()
}

/// Everything but RFC 3986's unreserved characters.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `?done=…`: the one-line confirmation a successful form redirects with.
#[derive(serde::Deserialize)]
pub(crate) struct Done {
    #[serde(default)]
    pub done: Option<String>,
}

/// Refuses an id that is not `party:index` before anything is looked up.
pub(crate) fn check_id(id: &str, what: &str) -> Result<(), PageError> {
    hotline_proto::agreement::parse_id(id)
        .map(|_| ())
        .ok_or_else(|| {
            PageError::new(
                StatusCode::BAD_REQUEST,
                format!("{id:?} is not {what} id (party:index, e.g. us:12)"),
            )
        })
}

/// A refusal the operator can act on — shown on the form, with what was
/// typed — as its status and words; anything else stays an error page.
pub(crate) fn refusal(e: impl Into<PageError>) -> Result<(StatusCode, String), PageError> {
    let e = e.into();
    match e.status {
        StatusCode::INTERNAL_SERVER_ERROR => Err(e),
        status => Ok((status, e.message)),
    }
}

/// One field of a form read as pairs (forms with repeated fields).
pub(crate) fn field(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// An attachment, as a download link.
pub(crate) struct AttachmentView {
    pub name: String,
    pub media_type: String,
    pub size: usize,
    pub url: String,
}

/// The attachments of a content, linked under the entry's evidence URL.
pub(crate) fn attachment_views(content: &Content, evidence: &str) -> Vec<AttachmentView> {
    content
        .attachments
        .iter()
        .enumerate()
        .map(|(n, a)| AttachmentView {
            name: a.name.clone(),
            media_type: a.media_type.clone(),
            size: a.data.len() / 4 * 3,
            url: format!("{evidence}/attachments/{n}"),
        })
        .collect()
}
