//! TAXII through the console's own router: accounts, the hostile requests
//! that must be refused with a TAXII error body and nothing written, and
//! the paging of a collection's objects (on objects built here: a channel
//! in force needs a second party, which the CLI's TAXII test runs).

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use hotline_proto::party::{Office, Party};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use hotline_node::dir::NodeDir;
use hotline_node::{InitOptions, Node};

use super::errors::{MEDIA_TYPE, check_accept, check_content_type};
use super::paging::{Item, Place, Query, stamp};
use crate::operators::Operators;
use crate::router;

const PASSWORD: &str = "correct horse battery";

struct Fixture {
    _tmp: tempfile::TempDir,
    node: Node,
    app: Router,
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
    node.add_office(Office::new("us/fbi").unwrap())
        .await
        .unwrap();
    let ops = Operators::of(&node).unwrap();
    tokio::task::spawn_blocking(move || {
        ops.add("alice", &[Office::new("us/fbi").unwrap()], false, PASSWORD)
    })
    .await
    .unwrap()
    .unwrap();
    let app = router(node.clone()).unwrap();
    Fixture {
        _tmp: tmp,
        node,
        app,
    }
}

fn basic(name: &str, pw: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{name}:{pw}"))
    )
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, String, Value) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let ct = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let b = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let v = serde_json::from_slice(&b).unwrap_or(Value::Null);
    (status, ct, v)
}

fn get(path: &str, auth: Option<&str>) -> Request<Body> {
    let mut b = Request::builder()
        .uri(path)
        .header(header::ACCEPT, MEDIA_TYPE);
    if let Some(a) = auth {
        b = b.header(header::AUTHORIZATION, a);
    }
    b.body(Body::empty()).unwrap()
}

/// The error body TAXII prescribes, with the status it names.
fn assert_error(got: &(StatusCode, String, Value), status: StatusCode) {
    assert_eq!(got.0, status, "{:?}", got.2);
    assert_eq!(got.1, MEDIA_TYPE);
    assert_eq!(
        got.2["http_status"],
        status.as_u16().to_string(),
        "{:?}",
        got.2
    );
    assert!(got.2["title"].is_string() && got.2["description"].is_string());
}

#[tokio::test]
async fn without_a_valid_account_every_route_is_401_with_a_taxii_error() {
    let f = fixture().await;
    for auth in [None, Some("Bearer not-a-token"), Some("Digest whatever")] {
        for path in [
            "/taxii2/",
            "/taxii2/hotline/",
            "/taxii2/hotline/collections/",
        ] {
            assert_error(
                &send(&f.app, get(path, auth)).await,
                StatusCode::UNAUTHORIZED,
            );
        }
    }
    // Passwords go through the console's throttle: one try each here.
    for auth in [
        basic("alice", "not her password"),
        basic("nobody", PASSWORD),
    ] {
        assert_error(
            &send(&f.app, get("/taxii2/", Some(&auth))).await,
            StatusCode::UNAUTHORIZED,
        );
    }
    // Counted for admins to see, never a lock: the right password still works.
    let ops = Operators::of(&f.node).unwrap();
    assert!(ops.get("alice").unwrap().unwrap().failures >= 1);
    let ok = send(&f.app, get("/taxii2/", Some(&basic("alice", PASSWORD)))).await;
    assert_eq!(ok.0, StatusCode::OK, "{:?}", ok.2);
}

#[tokio::test]
async fn a_burst_of_wrong_passwords_is_throttled_but_a_token_still_works() {
    let f = fixture().await;
    let token = Operators::of(&f.node)
        .unwrap()
        .new_taxii_token("alice")
        .unwrap();
    let mut throttled = false;
    for _ in 0..20 {
        let got = send(
            &f.app,
            get("/taxii2/", Some(&basic("alice", "guess guess guess"))),
        )
        .await;
        if got.0 == StatusCode::TOO_MANY_REQUESTS {
            assert_error(&got, StatusCode::TOO_MANY_REQUESTS);
            throttled = true;
            break;
        }
        assert_error(&got, StatusCode::UNAUTHORIZED);
    }
    assert!(
        throttled,
        "the console's per-address throttle applies to TAXII"
    );
    let ok = send(&f.app, get("/taxii2/", Some(&format!("Bearer {token}")))).await;
    assert_eq!(ok.0, StatusCode::OK, "a token needs no password check");
}

#[tokio::test]
async fn basic_and_a_token_both_sign_in_and_discovery_names_the_one_root() {
    let f = fixture().await;
    let (status, ct, v) = send(&f.app, get("/taxii2/", Some(&basic("alice", PASSWORD)))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct, MEDIA_TYPE);
    assert_eq!(v["default"], "/taxii2/hotline/");
    assert_eq!(v["api_roots"], json!(["/taxii2/hotline/"]));
    // The cached check answers the second request alike.
    let again = send(&f.app, get("/taxii2/", Some(&basic("alice", PASSWORD)))).await;
    assert_eq!(again.0, StatusCode::OK);

    let ops = Operators::of(&f.node).unwrap();
    let token = ops.new_taxii_token("alice").unwrap();
    let bearer = format!("Bearer {token}");
    let (status, _, root) = send(&f.app, get("/taxii2/hotline/", Some(&bearer))).await;
    assert_eq!(status, StatusCode::OK, "{root:?}");
    assert_eq!(root["versions"], json!([MEDIA_TYPE]));
    assert!(root["max_content_length"].as_u64().unwrap() > 0);
    // No channel in force: no collections.
    let (status, _, cols) = send(&f.app, get("/taxii2/hotline/collections/", Some(&bearer))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cols, json!({}));
    // Removing the operator ends the token.
    ops.remove("alice").unwrap();
    assert_error(
        &send(&f.app, get("/taxii2/", Some(&bearer))).await,
        StatusCode::UNAUTHORIZED,
    );
    assert!(ops.new_taxii_token("alice").is_err(), "a token for nobody");
}

#[tokio::test]
async fn a_wrong_accept_an_unknown_root_or_collection_are_refused_and_nothing_is_written() {
    let f = fixture().await;
    let auth = basic("alice", PASSWORD);
    let size = f.node.reader().size().unwrap();
    let mut req = get("/taxii2/", Some(&auth));
    req.headers_mut()
        .insert(header::ACCEPT, "text/html".parse().unwrap());
    assert_error(&send(&f.app, req).await, StatusCode::NOT_ACCEPTABLE);
    let mut req = get("/taxii2/hotline/collections/", Some(&auth));
    req.headers_mut().insert(
        header::ACCEPT,
        "application/taxii+json;version=2.0".parse().unwrap(),
    );
    assert_error(&send(&f.app, req).await, StatusCode::NOT_ACCEPTABLE);
    assert_error(
        &send(&f.app, get("/taxii2/other/collections/", Some(&auth))).await,
        StatusCode::NOT_FOUND,
    );
    let unknown = "/taxii2/hotline/collections/9f1c2b7e-0000-8000-8000-000000000000";
    for path in ["/", "/objects/", "/manifest/", "/objects/indicator--x/"] {
        assert_error(
            &send(&f.app, get(&format!("{unknown}{path}"), Some(&auth))).await,
            StatusCode::NOT_FOUND,
        );
    }
    let post = Request::builder()
        .method("POST")
        .uri(format!("{unknown}/objects/"))
        .header(header::AUTHORIZATION, &auth)
        .header(header::ACCEPT, MEDIA_TYPE)
        .header(header::CONTENT_TYPE, MEDIA_TYPE)
        .body(Body::from(r#"{"objects":[]}"#))
        .unwrap();
    assert_error(&send(&f.app, post).await, StatusCode::NOT_FOUND);
    assert_error(
        &send(
            &f.app,
            get(
                "/taxii2/hotline/status/00000000-0000-4000-8000-000000000000/",
                Some(&auth),
            ),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    assert_eq!(f.node.reader().size().unwrap(), size, "nothing written");
}

#[test]
fn accept_and_content_type_take_only_taxii_2_1() {
    let h = |k: header::HeaderName, v: &str| {
        let mut m = axum::http::HeaderMap::new();
        m.insert(k, v.parse().unwrap());
        m
    };
    for ok in [
        MEDIA_TYPE,
        "application/taxii+json",
        "application/taxii+json; version=2.1",
        "*/*",
        "text/html, application/taxii+json;version=2.1;q=0.9",
    ] {
        assert!(check_accept(&h(header::ACCEPT, ok)).is_ok(), "{ok}");
    }
    for bad in [
        "text/html",
        "application/json",
        "application/taxii+json;version=2.0",
    ] {
        assert_eq!(
            check_accept(&h(header::ACCEPT, bad)).unwrap_err().status,
            StatusCode::NOT_ACCEPTABLE,
            "{bad}"
        );
    }
    assert!(check_content_type(&h(header::CONTENT_TYPE, MEDIA_TYPE)).is_ok());
    for bad in [
        "application/json",
        "text/plain",
        "application/taxii+json;version=2.0",
    ] {
        assert_eq!(
            check_content_type(&h(header::CONTENT_TYPE, bad))
                .unwrap_err()
                .status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{bad}"
        );
    }
    assert_eq!(
        check_content_type(&axum::http::HeaderMap::new())
            .unwrap_err()
            .status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
}

/// `n` indicators carried by entries of `us` (two objects an entry), one
/// second apart; every fifth also in a second version.
fn items(n: usize) -> Vec<Item> {
    let base = 1_800_000_000_000_000i64;
    let mut out = Vec::new();
    for k in 0..n {
        let index = (k / 2) as u64;
        let micros = base + index as i64 * 1_000_000;
        let id = format!("indicator--00000000-0000-4000-8000-{k:012}");
        let mut push = |version: String, offset: usize, micros: i64| {
            out.push(Item {
                place: Place {
                    micros,
                    party: "us".into(),
                    index,
                    offset,
                },
                id: id.clone(),
                ty: "indicator".into(),
                version: version.clone(),
                spec_version: "2.1".into(),
                object: json!({"id": id, "modified": version}),
            });
        };
        push("2026-01-01T00:00:00.000Z".into(), k % 2, micros);
        if k % 5 == 0 {
            push("2026-02-01T00:00:00.000Z".into(), 9, micros + 500_000_000);
        }
    }
    out.sort_by(|a, b| a.place.cmp(&b.place));
    out
}

fn query(pairs: &[(&str, &str)]) -> Query {
    let q: String = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                crate::view::urlencode(k),
                crate::view::urlencode(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&");
    serde_urlencoded_from(&q)
}

fn serde_urlencoded_from(q: &str) -> Query {
    let uri: axum::http::Uri = format!("/x?{q}").parse().unwrap();
    axum::extract::Query::<Query>::try_from_uri(&uri).unwrap().0
}

#[test]
fn pages_follow_next_to_the_end_without_repeats_or_gaps() {
    let all = items(25);
    let everything = query(&[("match[version]", "all")])
        .page(all.clone(), false)
        .unwrap();
    assert_eq!(everything.items.len(), 30);
    assert!(everything.next.is_none());
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut p = vec![("limit", "7"), ("match[version]", "all")];
        let n = next.clone();
        if let Some(n) = &n {
            p.push(("next", n));
        }
        let page = query(&p).page(all.clone(), false).unwrap();
        assert!(page.items.len() <= 7);
        seen.extend(page.items.iter().map(|i| (i.id.clone(), i.version.clone())));
        pages += 1;
        match page.next {
            Some(n) => next = Some(n),
            None => break,
        }
    }
    assert_eq!(pages, 5);
    let want: Vec<_> = everything
        .items
        .iter()
        .map(|i| (i.id.clone(), i.version.clone()))
        .collect();
    assert_eq!(seen, want, "every object once, in order");
}

#[test]
fn filters_pick_versions_types_ids_and_what_was_added_after() {
    let all = items(10);
    let last = query(&[]).page(all.clone(), false).unwrap();
    assert_eq!(last.items.len(), 10, "the last version of each by default");
    assert!(
        last.items
            .iter()
            .filter(|i| i.version.starts_with("2026-02"))
            .count()
            == 2
    );
    let first = query(&[("match[version]", "first")])
        .page(all.clone(), false)
        .unwrap();
    assert!(first.items.iter().all(|i| i.version.starts_with("2026-01")));
    let at = query(&[("match[version]", "2026-02-01T00:00:00Z")])
        .page(all.clone(), false)
        .unwrap();
    assert_eq!(at.items.len(), 2);
    let id = "indicator--00000000-0000-4000-8000-000000000003";
    let one = query(&[("match[id]", id)])
        .page(all.clone(), false)
        .unwrap();
    assert_eq!(one.items.len(), 1);
    assert_eq!(one.items[0].id, id);
    let none = query(&[("match[type]", "malware")])
        .page(all.clone(), false)
        .unwrap();
    assert!(none.items.is_empty());
    let spec = query(&[("match[spec_version]", "2.0")])
        .page(all.clone(), false)
        .unwrap();
    assert!(spec.items.is_empty());
    let cut = all[9].place.micros;
    let after = query(&[("added_after", &stamp(cut)), ("match[version]", "all")])
        .page(all.clone(), false)
        .unwrap();
    assert!(after.items.iter().all(|i| i.place.micros > cut));
    assert!(!after.items.is_empty());
}

#[test]
fn bad_paging_parameters_are_400_and_cursors_round_trip() {
    let all = items(3);
    for (k, v) in [
        ("limit", "0"),
        ("limit", "many"),
        ("next", "garbage"),
        ("added_after", "yesterday"),
    ] {
        let e = query(&[(k, v)]).page(all.clone(), false).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST, "{k}={v}");
    }
    let p = Place {
        micros: 1_800_000_000_123_456,
        party: "ru".into(),
        index: 42,
        offset: 7,
    };
    assert_eq!(Place::parse(&p.cursor()), Some(p));
    assert_eq!(stamp(1_800_000_000_123_456), "2027-01-15T08:00:00.123456Z");
}

/// A console over a node with two offices of its own, `us/fbi` (alice's)
/// and `us/cia`: a channel whose entries are real, sealed and opened by the
/// node, with no second party needed.
struct Indexed {
    f: Fixture,
    c: crate::Console,
    a: super::auth::Account,
    ch: crate::channels::Channel,
}

async fn indexed() -> Indexed {
    let f = fixture().await;
    f.node
        .add_office(Office::new("us/cia").unwrap())
        .await
        .unwrap();
    let node = f.node.clone();
    let config = crate::config::ConsoleConfig::read(node.dir()).unwrap();
    let c = crate::Console {
        operators: Operators::of(&node).unwrap(),
        throttle: crate::throttle::Throttle::new(&config),
        records: hotline_node::records::Records::new(node.clone()),
        node,
        inquiries: Default::default(),
        taxii: Default::default(),
    };
    let operator = c.operators.get("alice").unwrap().unwrap();
    let ch = crate::channels::Channel {
        ours: Office::new("us/fbi").unwrap(),
        theirs: Office::new("us/cia").unwrap(),
        agreements: vec![],
        kinds: vec![],
        languages: vec![],
    };
    Indexed {
        f,
        c,
        a: super::auth::Account { operator },
        ch,
    }
}

fn indicator(n: usize, modified: &str) -> Value {
    let t = "2026-03-01T12:00:00.000Z";
    json!({
        "type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--6b2a3c4d-0000-4000-8000-{n:012}"),
        "created": t, "modified": modified, "pattern_type": "stix", "valid_from": t,
        "pattern": format!("[ipv4-addr:value = '203.0.113.{}']", n % 250),
    })
}

impl Indexed {
    /// One entry carrying `objects`, from `us/fbi` or (`back`) from `us/cia`.
    async fn send(&self, objects: Vec<Value>, back: bool) {
        let (from, to) = if back {
            (&self.ch.theirs, &self.ch.ours)
        } else {
            (&self.ch.ours, &self.ch.theirs)
        };
        let mut content = hotline_proto::entry::Content::text("objects", None);
        content.stix = Some(json!({
            "type": "bundle",
            "id": "bundle--6b2a3c4d-0000-4000-8000-000000000000",
            "objects": objects,
        }));
        self.f
            .node
            .send_message(from, to, content, None)
            .await
            .unwrap();
    }

    fn page(&self, pairs: &[(&str, &str)]) -> super::paging::Page {
        let q = query(pairs).params().unwrap();
        super::index::page(
            &self.c,
            &self.a,
            &self.ch,
            &q,
            None,
            super::index::Answer::Objects,
        )
        .unwrap()
    }

    fn rows(&self) -> i64 {
        self.c
            .operators
            .store()
            .read(|db| db.query_row("SELECT COUNT(*) FROM taxii_objects", [], |r| r.get(0)))
            .unwrap()
    }

    fn marks(&self) -> Vec<(String, i64)> {
        self.c
            .operators
            .store()
            .read(|db| {
                let mut s = db.prepare("SELECT sender, idx FROM taxii_marks ORDER BY sender")?;
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .unwrap()
    }
}

const V1: &str = "2026-03-01T12:00:00.000Z";
const V2: &str = "2026-04-01T12:00:00.000Z";

#[tokio::test(flavor = "multi_thread")]
async fn paging_while_objects_arrive_gives_each_object_once() {
    let x = indexed().await;
    let mut n = 0;
    for k in 0..4 {
        x.send((n..n + 3).map(|i| indicator(i, V1)).collect(), k % 2 == 1)
            .await;
        n += 3;
    }
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut p = vec![("limit", "4")];
        if let Some(c) = &next {
            p.push(("next", c));
        }
        let page = x.page(&p);
        assert!(page.items.len() <= 4);
        for i in &page.items {
            assert_eq!(
                i.object["id"],
                i.id.as_str(),
                "the body is the object indexed"
            );
            seen.push(i.id.clone());
        }
        match page.next {
            Some(c) => next = Some(c),
            None => break,
        }
        // More arrive between pages, both ways, while there are few.
        if n < 30 {
            x.send((n..n + 2).map(|i| indicator(i, V1)).collect(), n % 4 == 0)
                .await;
            n += 2;
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), seen.len(), "no object twice: {seen:?}");
    assert_eq!(seen.len(), n, "every object, those arrived meanwhile too");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_catch_up_indexes_only_the_new_entries() {
    let x = indexed().await;
    x.send((0..5).map(|i| indicator(i, V1)).collect(), false)
        .await;
    x.send(vec![indicator(9, V1)], true).await;
    assert_eq!(super::index::catch_up(&x.c, &x.ch).unwrap(), 6);
    assert_eq!(x.rows(), 6);
    let marks = x.marks();
    assert_eq!(marks.len(), 2, "{marks:?}");
    // Nothing new: nothing read into the index.
    assert_eq!(super::index::catch_up(&x.c, &x.ch).unwrap(), 0);
    // A new version of 0 and one new object; the version already held is
    // not indexed again.
    x.send(
        vec![indicator(0, V2), indicator(1, V1), indicator(5, V1)],
        false,
    )
    .await;
    assert_eq!(super::index::catch_up(&x.c, &x.ch).unwrap(), 2);
    assert_eq!(x.rows(), 8);
    let after = x.marks();
    assert_eq!(after[0], marks[0], "us/cia's direction did not move");
    assert!(after[1].1 > marks[1].1, "{after:?} {marks:?}");
    // Last by default, first and all on asking.
    let last = x.page(&[("match[id]", indicator(0, V1)["id"].as_str().unwrap())]);
    assert_eq!(last.items.len(), 1);
    assert_eq!(last.items[0].version, V2);
    let first = x.page(&[("match[version]", "first")]);
    assert_eq!(first.items.len(), 7);
    assert!(first.items.iter().all(|i| i.version == V1));
    assert_eq!(x.page(&[("match[version]", "all")]).items.len(), 8);
    assert_eq!(x.page(&[("match[version]", V2)]).items.len(), 1);
    assert_eq!(x.page(&[("match[type]", "malware")]).items.len(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_index_is_rebuilt_with_the_same_answers() {
    let x = indexed().await;
    for k in 0..3 {
        x.send(
            (k * 4..k * 4 + 4).map(|i| indicator(i, V1)).collect(),
            k == 1,
        )
        .await;
    }
    x.send(vec![indicator(2, V2)], true).await;
    let answers = |x: &Indexed| {
        [
            vec![("limit", "5")],
            vec![("match[version]", "all")],
            vec![("match[version]", "first"), ("limit", "3")],
        ]
        .iter()
        .map(|p| {
            let page = x.page(p);
            let ids: Vec<_> = page
                .items
                .iter()
                .map(|i| {
                    (
                        i.place.cursor(),
                        i.id.clone(),
                        i.version.clone(),
                        i.object.clone(),
                    )
                })
                .collect();
            (ids, page.next)
        })
        .collect::<Vec<_>>()
    };
    let before = answers(&x);
    assert_eq!(before[1].0.len(), 13);
    x.c.operators
        .store()
        .write(|tx| tx.execute_batch("DELETE FROM taxii_objects; DELETE FROM taxii_marks;"))
        .unwrap();
    assert_eq!(x.rows(), 0);
    assert_eq!(answers(&x), before);
    assert_eq!(x.rows(), 13);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_readers_catching_up_at_once_index_each_object_once() {
    let x = indexed().await;
    for k in 0..30 {
        x.send(
            (k * 5..k * 5 + 5).map(|i| indicator(i, V1)).collect(),
            k % 3 == 0,
        )
        .await;
    }
    let added: u64 = std::thread::scope(|s| {
        let readers: Vec<_> = (0..2)
            .map(|_| s.spawn(|| super::index::catch_up(&x.c, &x.ch).unwrap()))
            .collect();
        readers.into_iter().map(|r| r.join().unwrap()).sum()
    });
    assert_eq!(added, 150, "between them, each object once");
    assert_eq!(x.rows(), 150);
}
