//! The console's authorisation, driven through its own router as a browser
//! would: signed in at `/login`, same-origin, with the session's CSRF token.
//!
//! Every state-changing route is tried by an operator who does not act for
//! the office concerned (or, where an admin is needed, by a plain operator)
//! and must be refused with nothing written: the own log keeps its size and
//! the operators stay as they were. One allowed action per family shows
//! that the refusals are not a route refusing everyone.
//!
//! The entries the routes act on are between offices of the one party
//! (they need no agreement, so no second node), written with the node's own
//! calls. `us/cyber` stands for the other side: alice acts for `us/state`,
//! bob for `us/defense` (a bystander to all of it), root is the admin.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hotline_proto::entry::{Content, Media};
use hotline_proto::party::{Office, Party};
use jiff::{SignedDuration, Timestamp};
use tower::ServiceExt as _;

use hotline_node::calls::CallRequest;
use hotline_node::dir::NodeDir;
use hotline_node::{InitOptions, Node};

use crate::operators::{Operator, Operators};
use crate::router;

const PASSWORD: &str = "correct horse battery";
/// The console's host, as the browser names it in `Host` and `Origin`.
const HOST: &str = "console.test";
const BOUNDARY: &str = "authz-test-boundary";

/// Terms a party may propose alone (the other side need not be pinned).
const TERMS: &str = r#"
title = "Authorisation test line"
start = "2021-01-01T00:00:00Z"
notice = "30d"
languages = ["en"]

[[channel]]
offices = ["us/state", "ru/mfa"]
kinds = ["message", "inquiry", "ack", "answer"]
"#;

fn office(s: &str) -> Office {
    Office::new(s).unwrap()
}

/// A request body as the console's pages and scripts send them.
enum Sent {
    /// `application/x-www-form-urlencoded`.
    Form(Vec<(&'static str, String)>),
    /// `multipart/form-data`, text fields only.
    Multipart(Vec<(&'static str, String)>),
    /// JSON, the CSRF token in `x-csrf-token` (the call page's script).
    Json(serde_json::Value),
}

/// A signed-in browser: its session cookie and the session's CSRF token.
struct Browser {
    name: &'static str,
    cookie: String,
    csrf: String,
}

/// What the routes act on, by id (`us:index`).
struct Ids {
    /// us/cyber → us/state: alice's to acknowledge and answer.
    inquiry_in: String,
    /// us/state → us/cyber: alice's to close.
    inquiry_out: String,
    /// us/cyber → us/state: alice's to accept or decline.
    call_in: String,
    /// us/state → us/cyber: us/cyber's to accept.
    call_out: String,
    /// us/cyber → us/state, accepted: under way, to be written up.
    call_held: String,
    /// us/cyber → us/state: alice's to endorse.
    statement_in: String,
    /// us/state → us/cyber: us/cyber's to endorse.
    statement_out: String,
    /// This party's proposal to ru.
    agreement: String,
    /// The time proposed in every call.
    call_time: Timestamp,
}

struct Fixture {
    _tmp: tempfile::TempDir,
    node: Node,
    app: Router,
    ids: Ids,
    alice: Browser,
    bob: Browser,
    root: Browser,
}

fn urlencoded(fields: &[(&str, String)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                crate::view::urlencode(k),
                crate::view::urlencode(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn multipart(fields: &[(&str, String)]) -> String {
    let mut out = String::new();
    for (k, v) in fields {
        out.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    out.push_str(&format!("--{BOUNDARY}--\r\n"));
    out
}

/// The value of cookie `name` among a response's `Set-Cookie` headers.
fn set_cookie(res: &axum::response::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let (pair, _) = v.split_once(';').unwrap_or((v, ""));
            let (k, value) = pair.split_once('=')?;
            (k == name).then(|| value.to_owned())
        })
}

async fn body_text(res: axum::response::Response) -> String {
    let b = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    String::from_utf8_lossy(&b).into_owned()
}

/// A same-origin POST, with the cookie given.
fn post(path: &str, cookie: &str, body: &Sent, csrf: &str) -> Request<Body> {
    let b = Request::builder()
        .method("POST")
        .uri(path)
        .header(header::HOST, HOST)
        .header(header::ORIGIN, format!("http://{HOST}"))
        .header(header::COOKIE, cookie);
    match body {
        Sent::Form(f) => b
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(urlencoded(f))),
        Sent::Multipart(f) => b
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(Body::from(multipart(f))),
        Sent::Json(v) => b
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-csrf-token", csrf)
            .body(Body::from(v.to_string())),
    }
    .unwrap()
}

/// Signs in through `/login` as the sign-in page would: its CSRF cookie
/// and the same token in the form. The session's CSRF token (which the
/// pages put in their forms) is read back from the operators.
async fn sign_in(app: &Router, node: &Node, name: &'static str) -> Browser {
    let login_cookie = format!("hotline_login_{}", node.party());
    let session_cookie = format!("hotline_session_{}", node.party());
    let page = app
        .clone()
        .oneshot(
            Request::builder()
                .uri("/login")
                .header(header::HOST, HOST)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK, "GET /login");
    let form_token = set_cookie(&page, &login_cookie).expect("the sign-in page sets its cookie");
    let form = Sent::Form(vec![
        ("name", name.to_owned()),
        ("password", PASSWORD.to_owned()),
        ("csrf", form_token.clone()),
        ("next", "/".to_owned()),
    ]);
    let res = app
        .clone()
        .oneshot(post(
            "/login",
            &format!("{login_cookie}={form_token}"),
            &form,
            "",
        ))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{name} signs in");
    let token = set_cookie(&res, &session_cookie).expect("a signed-in operator gets a session");
    let csrf = Operators::of(node)
        .unwrap()
        .session(&token, hotline_node::clock::now())
        .unwrap()
        .expect("the session is live")
        .csrf;
    Browser {
        name,
        cookie: format!("{session_cookie}={token}"),
        csrf,
    }
}

fn id(node: &Node, index: u64) -> String {
    format!("{}:{index}", node.party())
}

async fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let dir = NodeDir::new(tmp.path().join("node"));
    Node::init(
        &dir,
        InitOptions::local(
            Party::new("us").unwrap(),
            crate::config::ConsoleConfig::default_table(),
        ),
    )
    .unwrap();
    let node = Node::open(&dir).unwrap();
    for o in ["us/state", "us/defense", "us/cyber"] {
        node.add_office(office(o)).await.unwrap();
    }
    let ops = Operators::of(&node).unwrap();
    tokio::task::spawn_blocking(move || {
        ops.add("alice", &[office("us/state")], false, PASSWORD)?;
        ops.add("bob", &[office("us/defense")], false, PASSWORD)?;
        ops.add("root", &[office("us/state")], true, PASSWORD)
    })
    .await
    .unwrap()
    .unwrap();

    let (state, cyber) = (office("us/state"), office("us/cyber"));
    let asking = |subject: &str| {
        let mut c = Content::text("What do you see on your side?", Some("en".into()));
        c.subject = Some(subject.into());
        c
    };
    let call_time = (hotline_node::clock::now() + SignedDuration::from_hours(24))
        .round(jiff::Unit::Second)
        .unwrap();
    let call = || CallRequest {
        media: Media::Voice,
        times: vec![call_time],
        topics: vec![],
        note: String::new(),
    };
    let text = |t: &str| Content::text(t, Some("en".into()));
    let n = &node;
    let ids = Ids {
        inquiry_in: id(
            n,
            n.inquire(&cyber, &state, asking("in")).await.unwrap().index,
        ),
        inquiry_out: id(
            n,
            n.inquire(&state, &cyber, asking("out"))
                .await
                .unwrap()
                .index,
        ),
        call_in: id(
            n,
            n.call_request(&cyber, &state, call()).await.unwrap().index,
        ),
        call_out: id(
            n,
            n.call_request(&state, &cyber, call()).await.unwrap().index,
        ),
        call_held: id(
            n,
            n.call_request(&cyber, &state, call()).await.unwrap().index,
        ),
        statement_in: id(
            n,
            n.statement(&cyber, &state, text("In."))
                .await
                .unwrap()
                .index,
        ),
        statement_out: id(
            n,
            n.statement(&state, &cyber, text("Out."))
                .await
                .unwrap()
                .index,
        ),
        agreement: id(
            n,
            n.propose_agreement(hotline_node::terms_file::parse(TERMS).unwrap())
                .await
                .unwrap()
                .index,
        ),
        call_time,
    };
    n.call_accept(&ids.call_held, call_time, String::new())
        .await
        .unwrap();
    let app = router(node.clone()).unwrap();
    let alice = sign_in(&app, &node, "alice").await;
    let bob = sign_in(&app, &node, "bob").await;
    let root = sign_in(&app, &node, "root").await;
    Fixture {
        _tmp: tmp,
        node,
        app,
        ids,
        alice,
        bob,
        root,
    }
}

/// What the node holds that a console action could change.
fn held(f: &Fixture) -> (u64, Vec<Operator>) {
    (
        f.node.reader().size().unwrap(),
        Operators::of(&f.node).unwrap().list().unwrap(),
    )
}

/// One route tried by one operator.
struct Try<'a> {
    path: String,
    who: &'a Browser,
    body: Sent,
}

impl Fixture {
    /// The form fields a page sends, with `who`'s CSRF token first.
    fn form(who: &Browser, fields: &[(&'static str, &str)]) -> Sent {
        let mut f = vec![("csrf", who.csrf.clone())];
        f.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
        Sent::Form(f)
    }

    fn multipart(who: &Browser, fields: &[(&'static str, &str)]) -> Sent {
        let Sent::Form(f) = Self::form(who, fields) else {
            unreachable!()
        };
        Sent::Multipart(f)
    }

    async fn send(&self, t: &Try<'_>) -> (StatusCode, String) {
        let res = self
            .app
            .clone()
            .oneshot(post(&t.path, &t.who.cookie, &t.body, &t.who.csrf))
            .await
            .unwrap();
        let status = res.status();
        (status, body_text(res).await)
    }

    /// Every state-changing route, each tried by an operator who must be
    /// refused: the status, and a phrase of the refusal that tells it from a
    /// refused CSRF token or a missing entry.
    fn refusals(&self) -> Vec<(Try<'_>, StatusCode, &'static str)> {
        let (a, b) = (&self.alice, &self.bob);
        let ids = &self.ids;
        let at = ids.call_time.to_string();
        let to_state = "us/state us/cyber";
        let message = [("channel", to_state), ("kind", "message"), ("text", "hi")];
        let inquiry = [
            ("channel", to_state),
            ("kind", "inquiry"),
            ("subject", "s"),
            ("text", "hi"),
        ];
        let new_op = [
            ("name", "mallory"),
            ("offices", "us/defense"),
            ("admin", "on"),
            ("password", PASSWORD),
            ("password2", PASSWORD),
        ];
        let signal = serde_json::json!({ "kind": "offer", "data": {} });
        let now = hotline_node::clock::now();
        let ended = serde_json::json!({
            "start": (now - SignedDuration::from_mins(5)).to_string(),
            "end": now.to_string(),
        });
        let t = |path: String, who, body| Try { path, who, body };
        let mut v = vec![
            // Writing on a channel of another office.
            (
                t("/compose".into(), b, Self::multipart(b, &message)),
                "act only for",
            ),
            (
                t("/compose".into(), b, Self::multipart(b, &inquiry)),
                "act only for",
            ),
            (
                t(
                    "/compose".into(),
                    a,
                    Self::multipart(
                        a,
                        &[
                            ("channel", "us/cyber us/state"),
                            ("kind", "message"),
                            ("text", "hi"),
                        ],
                    ),
                ),
                "act only for",
            ),
        ];
        // Inquiries: the receiving office acknowledges and answers, the
        // sending office closes.
        for (q, who) in [(&ids.inquiry_in, b), (&ids.inquiry_out, a)] {
            v.push((
                t(format!("/inquiries/{q}/ack"), who, Self::form(who, &[])),
                "act only for",
            ));
            v.push((
                t(
                    format!("/inquiries/{q}/answer"),
                    who,
                    Self::multipart(who, &[("text", "an answer")]),
                ),
                "act only for",
            ));
        }
        for (q, who) in [(&ids.inquiry_out, b), (&ids.inquiry_in, a)] {
            v.push((
                t(format!("/inquiries/{q}/close"), who, Self::form(who, &[])),
                "act only for",
            ));
        }
        // Agreements are the party's: an admin's to propose, sign, withdraw.
        for who in [a, b] {
            let ag = &ids.agreement;
            v.push((
                t(
                    "/agreements".into(),
                    who,
                    Self::form(who, &[("terms", TERMS)]),
                ),
                "needs an admin",
            ));
            for act in ["sign", "withdraw"] {
                v.push((
                    t(format!("/agreements/{ag}/{act}"), who, Self::form(who, &[])),
                    "needs an admin",
                ));
            }
        }
        // Calls: requested on a channel of one's own office, answered by the
        // addressed office, and written up by either office on the call.
        v.push((
            t(
                "/calls".into(),
                b,
                Self::form(
                    b,
                    &[("channel", to_state), ("media", "voice"), ("times", &at)],
                ),
            ),
            "act only for",
        ));
        for (c, who) in [(&ids.call_in, b), (&ids.call_out, a)] {
            v.push((
                t(
                    format!("/calls/{c}/accept"),
                    who,
                    Self::form(who, &[("at", &at)]),
                ),
                "act only for",
            ));
            v.push((
                t(
                    format!("/calls/{c}/decline"),
                    who,
                    Self::form(who, &[("reason", "busy")]),
                ),
                "act only for",
            ));
        }
        let c = &ids.call_held;
        v.push((
            t(
                format!("/calls/{c}/readout"),
                b,
                Self::form(b, &[("text", "a readout"), ("lang", "en")]),
            ),
            "you act for neither",
        ));
        v.push((
            t(format!("/calls/{c}/signal"), b, Sent::Json(signal)),
            "you act for neither",
        ));
        v.push((
            t(format!("/calls/{c}/ended"), b, Sent::Json(ended.clone())),
            "you act for neither",
        ));
        // Between two offices of this party the node writes the record as
        // the requester (us/cyber): the addressee's operator may not.
        v.push((
            t(format!("/calls/{c}/ended"), a, Sent::Json(ended)),
            "act only for",
        ));
        // Statements: proposed on one's own channel, endorsed by the office
        // asked.
        v.push((
            t(
                "/statements".into(),
                b,
                Self::form(
                    b,
                    &[("channel", to_state), ("text", "Joint."), ("lang", "en")],
                ),
            ),
            "act only for",
        ));
        let digest = |s: &str| {
            self.node
                .statements()
                .unwrap()
                .into_iter()
                .find(|x| x.id == s)
                .unwrap()
                .digest
        };
        let (s_in, s_out) = (&ids.statement_in, &ids.statement_out);
        let (d_in, d_out) = (digest(s_in), digest(s_out));
        v.push((
            t(
                format!("/statements/{s_in}/endorse"),
                b,
                Self::form(b, &[("digest", &d_in)]),
            ),
            "you act for neither",
        ));
        v.push((
            t(
                format!("/statements/{s_out}/endorse"),
                a,
                Self::form(a, &[("digest", &d_out)]),
            ),
            "asks us/cyber to endorse it",
        ));
        // Operators are an admin's to manage.
        for who in [a, b] {
            v.push((
                t("/operators".into(), who, Self::form(who, &new_op)),
                "needs an admin",
            ));
            for act in ["unlock", "remove"] {
                let other = if who.name == "bob" { "alice" } else { "bob" };
                v.push((
                    t(
                        format!("/operators/{other}/{act}"),
                        who,
                        Self::form(who, &[]),
                    ),
                    "needs an admin",
                ));
            }
        }
        let mut v: Vec<_> = v
            .into_iter()
            .map(|(t, says)| (t, StatusCode::FORBIDDEN, says))
            .collect();
        // A call not yet accepted cannot be joined by anyone: the signal is
        // refused before the office is looked at.
        let c = &ids.call_in;
        v.push((
            t(
                format!("/calls/{c}/signal"),
                b,
                Sent::Json(serde_json::json!({ "kind": "offer", "data": {} })),
            ),
            StatusCode::CONFLICT,
            "has not been accepted",
        ));
        v
    }
}

#[tokio::test]
async fn every_action_is_refused_to_an_operator_who_does_not_act_for_it() {
    let f = fixture().await;
    let mut failed = Vec::new();
    let cases = f.refusals();
    for (t, refused, phrase) in &cases {
        let before = held(&f);
        let (status, body) = f.send(t).await;
        let after = held(&f);
        let what = format!("POST {} as {}", t.path, t.who.name);
        if status != *refused || !body.contains(phrase) {
            let excerpt: String = body.chars().take(600).collect();
            failed.push(format!(
                "{what}: expected {refused} saying {phrase:?}, got {status}: {excerpt}"
            ));
        }
        if after.0 != before.0 {
            failed.push(format!(
                "{what}: the log grew from {} to {} entries",
                before.0, after.0
            ));
        }
        if after.1 != before.1 {
            failed.push(format!(
                "{what}: the operators changed from {:?} to {:?}",
                before.1, after.1
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} refusals failed:\n{}",
        failed.len(),
        cases.len(),
        failed.join("\n")
    );
}

#[tokio::test]
async fn the_office_acted_for_and_an_admin_are_allowed() {
    let f = fixture().await;
    let (a, r) = (&f.alice, &f.root);
    let ids = &f.ids;
    let at = ids.call_time.to_string();
    let digest = f
        .node
        .statements()
        .unwrap()
        .into_iter()
        .find(|s| s.id == ids.statement_in)
        .unwrap()
        .digest;
    let t = |path: String, who, body| Try { path, who, body };
    // (the action, the entries it writes, the operators it adds)
    let allowed = [
        (
            t(
                "/compose".into(),
                a,
                Fixture::multipart(
                    a,
                    &[
                        ("channel", "us/state us/cyber"),
                        ("kind", "message"),
                        ("text", "hi"),
                    ],
                ),
            ),
            1,
            0,
        ),
        (
            t(
                format!("/inquiries/{}/ack", ids.inquiry_in),
                a,
                Fixture::form(a, &[]),
            ),
            1,
            0,
        ),
        (
            t(
                "/agreements".into(),
                r,
                Fixture::form(r, &[("terms", TERMS)]),
            ),
            1,
            0,
        ),
        (
            t(
                format!("/calls/{}/accept", ids.call_in),
                a,
                Fixture::form(a, &[("at", &at)]),
            ),
            1,
            0,
        ),
        (
            t(
                format!("/statements/{}/endorse", ids.statement_in),
                a,
                Fixture::form(a, &[("digest", &digest)]),
            ),
            1,
            0,
        ),
        (
            t(
                "/operators".into(),
                r,
                Fixture::form(
                    r,
                    &[
                        ("name", "dave"),
                        ("offices", "us/defense"),
                        ("password", PASSWORD),
                        ("password2", PASSWORD),
                    ],
                ),
            ),
            0,
            1,
        ),
    ];
    let mut failed = Vec::new();
    for (t, entries, operators) in &allowed {
        let before = held(&f);
        let (status, body) = f.send(t).await;
        let after = held(&f);
        let what = format!("POST {} as {}", t.path, t.who.name);
        if status != StatusCode::SEE_OTHER {
            let excerpt: String = body.chars().take(600).collect();
            failed.push(format!("{what}: expected 303, got {status}: {excerpt}"));
        }
        if after.0 != before.0 + entries {
            failed.push(format!(
                "{what}: the log went from {} to {} entries, not {entries} more",
                before.0, after.0
            ));
        }
        if after.1.len() != before.1.len() + operators {
            failed.push(format!(
                "{what}: {} operators became {}, not {operators} more",
                before.1.len(),
                after.1.len()
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} allowed actions failed:\n{}",
        failed.len(),
        allowed.len(),
        failed.join("\n")
    );
}
