//! # hotline-console
//!
//! The operator console: the duty officer's day in a browser.
//!
//! Served by `hotline serve` beside the JSON API (the binary merges
//! [`router`] into the node's routes), as server-rendered HTML with a little
//! plain JavaScript and every asset compiled into the binary, so a node on a
//! closed network needs nothing else. Operators log in with a password
//! ([`operators`]); a session acts only for the operator's own offices, and
//! every form carries the session's CSRF token. The pages read the same logs
//! as the CLI and write through the same node calls, so what a click does is
//! exactly what `hotline inquire`/`ack`/`answer` do. The console reaches the
//! node only through hotline-node's public API, and keeps its own data in
//! its own database.
//!
//! Its modules:
//!
//! - `admin`: operators managed by an admin: add, clear failed sign-ins, remove.
//! - `agreements`: agreements listed and shown; an admin proposes, signs, withdraws.
//! - `assets`: the stylesheet, scripts and icon, compiled in.
//! - `auth`: login, the session cookie, CSRF tokens, acting only for one's own offices.
//! - `authz_tests` (tests only): each action route refused to an operator of another
//!   office, and to a plain operator where an admin is needed.
//! - `calls`: calls requested, accepted or declined, talked live, and their readouts.
//! - `channels`: the first page: what needs action, then one row per channel.
//! - `compose`: writing a message or an inquiry, with attachments and STIX.
//! - [`config`]: the `[console]` section of hotline.toml, and why it could not be read.
//! - `events`: live updates as server-sent events.
//! - `evidence`: an entry's signed header, content and proof bundles.
//! - `health`: link and witness health per counterpart.
//! - `inquiry`: inquiries with their deadlines; acknowledge, answer, close.
//! - `needs_action`: what waits for the operator, and the link-down banner.
//! - [`operators`]: operators, their passwords and sessions, and why a change or a login failed.
//! - `statements`: joint statements proposed, endorsed and proved.
//! - [`store`]: the console's own database, `console.sqlite3`, with its migrations.
//! - `taxii`: TAXII 2.1 under `/taxii2/`: each channel's STIX objects as a collection.
//! - `throttle`: sign-in throttling per client address and for the whole node.
//! - `timeline`: a channel's timeline, both logs merged in time order.
//! - `view`: what every page shares: the frame, building and rendering a page, redirects
//!   with a confirmation, errors as pages (where HTTP statuses are chosen), times.
#![forbid(unsafe_code)]

mod admin;
mod agreements;
mod assets;
mod auth;
#[cfg(test)]
mod authz_tests;
mod calls;
mod channels;
mod compose;
pub mod config;
mod events;
mod evidence;
mod health;
mod inquiry;
mod needs_action;
pub mod operators;
mod statements;
pub mod store;
mod taxii;
mod throttle;
mod timeline;
mod view;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use hotline_node::node::Node;

/// The console's shared state.
#[derive(Clone)]
pub(crate) struct Console {
    node: Node,
    /// Everything the pages read.
    records: hotline_node::records::Records,
    operators: operators::Operators,
    /// Sign-in attempts per client address and password checks at once.
    throttle: throttle::Throttle,
    /// Every page frame and every live stream asks which inquiries are
    /// overdue; they share one reading per second instead of each folding
    /// both logs again.
    inquiries: std::sync::Arc<std::sync::Mutex<Option<(Seen, Inquiries)>>>,
    /// TAXII's recent successful password checks.
    taxii: taxii::Verified,
}

/// When a reading was taken: the time, and how far the logs had come. A
/// reading is reused only while both still hold.
type Seen = (std::time::Instant, hotline_node::records::Progress);

type Inquiries = std::sync::Arc<Vec<hotline_node::inquiries::Inquiry>>;

impl Console {
    /// The id (`party:index`) of an entry this node wrote at `index`.
    pub(crate) fn own_id(&self, index: u64) -> String {
        format!("{}:{index}", self.node.party())
    }

    /// The inquiries as the logs show them: never behind the logs, and at
    /// most a second behind the clock (deadlines pass without entries).
    pub(crate) fn inquiries(&self) -> hotline_node::error::Result<Inquiries> {
        let fresh = std::time::Duration::from_secs(1);
        let progress = self.records.progress();
        if let Ok(g) = self.inquiries.lock()
            && let Some(((at, p), list)) = g.as_ref()
            && at.elapsed() < fresh
            && *p == progress
        {
            return Ok(list.clone());
        }
        let list = std::sync::Arc::new(self.node.inquiries()?);
        if let Ok(mut g) = self.inquiries.lock() {
            *g = Some(((std::time::Instant::now(), progress), list.clone()));
        }
        Ok(list)
    }
}

/// The console's routes, to be merged into the API's router.
///
/// # Errors
///
/// A bad `[console]` section in hotline.toml, or a console database
/// (`console.sqlite3`) that cannot be opened.
pub fn router(node: Node) -> Result<Router, operators::OperatorError> {
    let limit = node.config().limits.max_request_bytes;
    let config = config::ConsoleConfig::read(node.dir())?;
    let state = Console {
        operators: operators::Operators::open(node.dir(), node.party().clone(), config.clone())?,
        throttle: throttle::Throttle::new(&config),
        records: hotline_node::records::Records::new(node.clone()),
        node,
        inquiries: Default::default(),
        taxii: Default::default(),
    };
    Ok(Router::new()
        .route("/", get(channels::page))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route(
            "/channels/{our_party}/{our_office}/{their_party}/{their_office}",
            get(timeline::page),
        )
        .route("/compose", get(compose::page).post(compose::send))
        .route("/inquiries", get(inquiry::list))
        .route("/inquiries/{id}", get(inquiry::page))
        .route("/inquiries/{id}/ack", post(inquiry::ack))
        .route("/inquiries/{id}/answer", post(inquiry::answer))
        .route("/inquiries/{id}/close", post(inquiry::close))
        .route(
            "/agreements",
            get(agreements::list).post(agreements::propose),
        )
        .route("/agreements/{id}", get(agreements::page))
        .route("/agreements/{id}/sign", post(agreements::sign))
        .route("/agreements/{id}/withdraw", post(agreements::withdraw))
        .route("/calls", get(calls::list).post(calls::request))
        .route("/calls/{id}", get(calls::page))
        .route("/calls/{id}/accept", post(calls::accept))
        .route("/calls/{id}/decline", post(calls::decline))
        .route("/calls/{id}/readout", post(calls::readout))
        .route("/calls/{id}/signal", post(calls::send_signal))
        .route("/calls/{id}/ended", post(calls::ended))
        .route(
            "/statements",
            get(statements::list).post(statements::propose),
        )
        .route("/statements/{id}", get(statements::page))
        .route("/statements/{id}/endorse", post(statements::endorse))
        .route("/statements/{id}/proof", get(statements::proof))
        .route("/health", get(health::page))
        .route("/entries/{party}/{index}", get(evidence::page))
        .route("/entries/{party}/{index}/proof", get(evidence::proof))
        .route("/entries/{party}/{index}/delivery", get(evidence::delivery))
        .route("/entries/{party}/{index}/answered", get(evidence::answered))
        .route(
            "/entries/{party}/{index}/attachments/{n}",
            get(evidence::attachment),
        )
        .route("/operators", get(admin::page).post(admin::add))
        .route("/operators/{name}/unlock", post(admin::unlock))
        .route("/operators/{name}/remove", post(admin::remove))
        .route("/events", get(events::stream))
        .route("/static/{file}", get(assets::file))
        .route("/favicon.ico", get(assets::icon))
        .merge(taxii::routes())
        .layer(axum::middleware::from_fn(auth::same_origin))
        .layer(axum::middleware::map_response(view::security_headers))
        // Multipart forms carry attachments base64-encoded later, so allow
        // the request limit plus the form's own overhead.
        .layer(DefaultBodyLimit::max(limit.saturating_add(64 * 1024)))
        .with_state(state))
}
