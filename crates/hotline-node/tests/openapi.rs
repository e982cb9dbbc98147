//! The OpenAPI document (`openapi.json`, served at `/openapi.json`) and the
//! router in `api::app` must describe the same API: every routed path and
//! method is documented, and nothing is documented that the router lacks.
//!
//! `ROUTES` is copied from `api::app`. The test checks it against the document
//! in both directions; against the router's source, whose `.route("…"` paths
//! (under their `.nest` prefix) must be exactly the listed paths, so a route
//! added to `app` and not listed here fails; and against the live router: for
//! each listed path the router's `Allow` header (its answer to a method no
//! route has) must name exactly the listed methods. `scripts/check-openapi.sh`
//! validates the document itself against the OpenAPI 3.1 schema.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use hotline_node::api::{OPENAPI, app};
use hotline_node::dir::NodeDir;
use hotline_node::{InitOptions, Node};
use hotline_proto::party::Party;
use serde_json::Value;
use tower::ServiceExt as _;

/// Every route of `api::app`, with its methods (HEAD, which axum adds to
/// every GET, is left out, as in the document).
const ROUTES: &[(&str, &[&str])] = &[
    ("/healthz", &["get"]),
    ("/metrics", &["get"]),
    ("/openapi.json", &["get"]),
    ("/checkpoint", &["get"]),
    ("/v1/messages", &["post"]),
    ("/v1/offices", &["get", "post"]),
    ("/v1/offices/rotate", &["post"]),
    ("/v1/offices/revoke", &["post"]),
    ("/v1/identity", &["get"]),
    ("/v1/peers", &["post"]),
    ("/v1/witnesses", &["get", "post", "delete"]),
    ("/v1/log", &["get"]),
    ("/v1/proofs/entry/{index}", &["get"]),
    ("/v1/status", &["get"]),
    ("/v1/agreements", &["get", "post"]),
    ("/v1/agreements/{id}/sign", &["post"]),
    ("/v1/agreements/{id}/withdraw", &["post"]),
    ("/v1/inquiries", &["get", "post"]),
    ("/v1/inquiries/{id}/ack", &["post"]),
    ("/v1/inquiries/{id}/answer", &["post"]),
    ("/v1/inquiries/{id}/close", &["post"]),
    ("/v1/peers/{party}/log", &["get"]),
    ("/v1/peer-listener", &["put"]),
    ("/v1/equivocations", &["get"]),
    ("/v1/proofs/equivocation/{id}", &["get"]),
    ("/v1/calls", &["get", "post"]),
    ("/v1/calls/{id}", &["get"]),
    ("/v1/calls/{id}/accept", &["post"]),
    ("/v1/calls/{id}/decline", &["post"]),
    ("/v1/calls/{id}/record", &["post"]),
    ("/v1/calls/{id}/readouts", &["post"]),
    ("/v1/statements", &["get", "post"]),
    ("/v1/statements/{id}/endorse", &["post"]),
    ("/v1/proofs/statement/{id}", &["get"]),
    ("/tiles/", &["get"]),
    ("/tiles/{log}/checkpoint", &["get"]),
    ("/tiles/{log}/tile/{tile}", &["get"]),
];

/// The source of `api::app`, read by `routes_in_the_source`.
const API_SRC: &str = include_str!("../src/api.rs");

/// The source of `tiles::router`, which `api::app` merges: its routes are
/// read too (a catch-all `{*tile}` as the document's `{tile}`).
const TILES_SRC: &str = include_str!("../src/tiles/mod.rs");

/// The `.route("…"` paths in the body of `fn router` of the tiles module.
fn tiles_routes() -> Vec<String> {
    let start = TILES_SRC
        .find("pub fn router(")
        .expect("tiles/mod.rs has no `pub fn router(`");
    let body = &TILES_SRC[start..];
    let body = &body[..body.find("\n}").expect("the end of `fn router`")];
    body.split(".route(")
        .skip(1)
        .map(|rest| {
            let rest = rest
                .trim_start()
                .strip_prefix('"')
                .expect("a string literal");
            rest[..rest.find('"').unwrap()].replace("{*", "{")
        })
        .collect()
}

const HTTP_METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

type Api = BTreeMap<String, BTreeSet<String>>;

fn doc() -> Value {
    serde_json::from_str(OPENAPI).expect("openapi.json is not JSON")
}

fn routes() -> Api {
    ROUTES
        .iter()
        .map(|(p, ms)| (p.to_string(), ms.iter().map(|m| m.to_string()).collect()))
        .collect()
}

fn documented(doc: &Value) -> Api {
    doc["paths"]
        .as_object()
        .expect("paths is an object")
        .iter()
        .map(|(p, item)| {
            let ms = item
                .as_object()
                .expect("a path item is an object")
                .keys()
                .filter(|k| HTTP_METHODS.contains(&k.as_str()))
                .cloned()
                .collect();
            (p.clone(), ms)
        })
        .collect()
}

/// The paths `api::app` routes, read from its source text: every
/// `.route("PATH"` in the body of `fn app`, under the prefix of the router it
/// is chained on. A chain starts at `Router::new()`; one bound by
/// `let NAME = Router::new()` and mounted by `.nest("PREFIX", NAME)` on
/// another chain gets that chain's prefix plus PREFIX. Whitespace and line
/// breaks anywhere between the tokens are fine; a path that is not a string
/// literal, or a way of adding routes this does not read, fails loudly.
fn routes_in_the_source(src: &str) -> BTreeSet<String> {
    let start = src
        .find("pub fn app(")
        .expect("api.rs has no `pub fn app(`");
    let body = &src[start..];
    let end = body.find("\n}").expect("the end of `fn app`");
    let body: String = body[..end]
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    // The one merge `app` has: the tiles routes, read from their module.
    let merged_tiles = body.contains(".merge(crate::tiles::router(");
    let body = body.replace(".merge(crate::tiles::router(", "");
    for other in [".merge(", ".route_service(", ".nest_service("] {
        assert!(
            !body.contains(other),
            "api::app uses `{other}`: teach routes_in_the_source to read it"
        );
    }
    // The string literal that `s` starts with, after whitespace, and the rest.
    fn literal(s: &str, after: &str) -> (String, String) {
        let s = s
            .trim_start()
            .strip_prefix('"')
            .unwrap_or_else(|| panic!("expected a string literal after `{after}`"));
        let close = s.find('"').expect("an unterminated string literal");
        (s[..close].to_owned(), s[close + 1..].to_owned())
    }
    fn ident(s: &str) -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    }
    // Each chain: its `let` name (if any), its routes, its nests.
    struct Chain {
        name: Option<String>,
        routes: Vec<String>,
        nests: Vec<(String, String)>,
    }
    let starts: Vec<usize> = body
        .match_indices("Router::new()")
        .map(|(i, _)| i)
        .collect();
    assert!(!starts.is_empty(), "fn app builds no `Router::new()`");
    let chains: Vec<Chain> = starts
        .iter()
        .enumerate()
        .map(|(k, &at)| {
            let text = &body[at..starts.get(k + 1).copied().unwrap_or(body.len())];
            let name = body[..at]
                .trim_end()
                .strip_suffix('=')
                .map(|b| {
                    let b = b.trim_end();
                    let word = b
                        .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .next();
                    word.unwrap_or_default().to_owned()
                })
                .filter(|n| !n.is_empty());
            let routes = text
                .split(".route(")
                .skip(1)
                .map(|rest| literal(rest, ".route(").0)
                .collect();
            let nests = text
                .split(".nest(")
                .skip(1)
                .map(|rest| {
                    let (prefix, rest) = literal(rest, ".nest(");
                    let rest = rest
                        .trim_start()
                        .strip_prefix(',')
                        .expect("`,` after the nest prefix");
                    let child = ident(rest.trim_start());
                    assert!(
                        !child.is_empty(),
                        "`.nest(\"{prefix}\", …)` mounts something other than a named router"
                    );
                    (prefix, child)
                })
                .collect();
            Chain {
                name,
                routes,
                nests,
            }
        })
        .collect();
    // A chain's prefix: its parent's prefix plus the nest prefix, or "" at the root.
    fn prefix(chains: &[Chain], c: &Chain, depth: usize) -> String {
        assert!(depth < 16, "nests loop");
        let Some(name) = &c.name else {
            return String::new();
        };
        chains
            .iter()
            .find_map(|p| {
                p.nests
                    .iter()
                    .find(|(_, child)| child == name)
                    .map(|(pre, _)| prefix(chains, p, depth + 1) + pre)
            })
            .unwrap_or_default()
    }
    let mut out = BTreeSet::new();
    if merged_tiles {
        out.extend(tiles_routes());
    }
    for c in &chains {
        let pre = prefix(&chains, c, 0);
        for r in &c.routes {
            assert!(out.insert(format!("{pre}{r}")), "{pre}{r} is routed twice");
        }
    }
    out
}

fn diff(a: &Api, b: &Api) -> Vec<String> {
    let mut out = vec![];
    for (p, ms) in a {
        for m in ms {
            if !b.get(p).is_some_and(|bm| bm.contains(m)) {
                out.push(format!("{} {p}", m.to_uppercase()));
            }
        }
        if ms.is_empty() && !b.contains_key(p) {
            out.push(format!("{p} (no methods)"));
        }
    }
    out
}

#[test]
fn document_is_openapi_3_1_with_bearer_auth() {
    let d = doc();
    assert!(
        d["openapi"].as_str().is_some_and(|v| v.starts_with("3.1.")),
        "openapi: {}",
        d["openapi"]
    );
    assert_eq!(
        d["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
}

/// Every path `api::app` routes is listed in `ROUTES`, and every listed path is
/// routed: a route added to the router without documenting it fails here.
#[test]
fn routes_in_the_source_are_the_listed_routes() {
    let source = routes_in_the_source(API_SRC);
    let listed: BTreeSet<String> = ROUTES.iter().map(|(p, _)| p.to_string()).collect();
    let unlisted: Vec<&String> = source.difference(&listed).collect();
    let unrouted: Vec<&String> = listed.difference(&source).collect();
    assert!(
        unlisted.is_empty() && unrouted.is_empty(),
        "routed in src/api.rs but not in ROUTES (add them there and to openapi.json): {unlisted:?}; \
         in ROUTES but not routed in src/api.rs: {unrouted:?}"
    );
}

/// The reader of the source tolerates formatting, and follows nests.
#[test]
fn routes_in_the_source_reads_reformatted_code() {
    let src = r#"
pub fn app(node: Node, token: &str) -> Router {
    let inner = Router::new().route( "/c", get(c));
    let api = Router::new()
        .route(
            "/a",
            post(a).get(b),
        )
        // .route("/commented-out", get(x))
        .nest(
            "/in",
            inner,
        );
    Router::new()
        .route("/b", get(b))
        .nest("/v1", api)
        .layer(map_response(|r| async move { r.headers_mut(); r }))
}
"#;
    let got: Vec<String> = routes_in_the_source(src).into_iter().collect();
    assert_eq!(got, ["/b", "/v1/a", "/v1/in/c"]);
}

#[test]
fn every_route_is_documented() {
    let missing = diff(&routes(), &documented(&doc()));
    assert!(
        missing.is_empty(),
        "routed in api::app but not in openapi.json: {missing:?}"
    );
}

#[test]
fn nothing_is_documented_that_the_router_lacks() {
    let extra = diff(&documented(&doc()), &routes());
    assert!(
        extra.is_empty(),
        "in openapi.json but not routed in api::app: {extra:?}"
    );
}

#[test]
fn v1_operations_need_the_token_and_public_ones_do_not() {
    let d = doc();
    for (path, ms) in documented(&d) {
        for m in ms {
            let op = &d["paths"][&path][&m];
            let secured = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearerAuth").is_some()));
            // The tiles take a read token unless `[tiles] public = true`.
            let v1 = path.starts_with("/v1/") || path.starts_with("/tiles/");
            assert_eq!(secured, v1, "{m} {path}: security");
            assert_eq!(
                op["responses"].get("401").is_some(),
                v1,
                "{m} {path}: 401 response"
            );
        }
    }
}

/// Every local `$ref` points at something.
#[test]
fn every_ref_resolves() {
    fn walk(v: &Value, root: &Value, bad: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    let ok = r
                        .strip_prefix('#')
                        .is_some_and(|ptr| root.pointer(ptr).is_some());
                    if !ok {
                        bad.push(r.clone());
                    }
                }
                m.values().for_each(|x| walk(x, root, bad));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, root, bad)),
            _ => {}
        }
    }
    let d = doc();
    let mut bad = vec![];
    walk(&d, &d, &mut bad);
    assert!(bad.is_empty(), "unresolved $refs: {bad:?}");
}

/// The listed routes are the router's: each path is routed (not the 404
/// fallback) with exactly the listed methods; the served document is the file;
/// errors have the documented `Error` shape.
#[tokio::test]
async fn routes_match_the_live_router() {
    const TOKEN: &str = "test-token";
    let tmp = tempfile::tempdir().unwrap();
    let dir = NodeDir::new(tmp.path().join("node"));
    Node::init(
        &dir,
        InitOptions::local(Party::new("us").unwrap(), Default::default()),
    )
    .unwrap();
    let router = app(Node::open(&dir).unwrap(), TOKEN);
    let send = |method: Method, uri: String| {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .body(Body::empty())
            .unwrap();
        router.clone().oneshot(req)
    };
    // A method no route has: the router answers 405 with the path's methods
    // in `Allow` if it routes the path, and its 404 fallback if not.
    let probe = Method::from_bytes(b"PROBE").unwrap();
    for (path, methods) in ROUTES {
        // Any value routes: the path parameters are not parsed before 405.
        let uri: String = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "0" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        let res = send(probe.clone(), uri).await.unwrap();
        assert_eq!(
            res.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{path} is not routed"
        );
        let allow: BTreeSet<String> = res
            .headers()
            .get(header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .split(',')
            .map(|m| m.trim().to_ascii_lowercase())
            .filter(|m| !m.is_empty() && m != "head")
            .collect();
        let listed: BTreeSet<String> = methods.iter().map(|m| m.to_string()).collect();
        assert_eq!(allow, listed, "methods of {path}");
    }

    let res = send(Method::GET, "/openapi.json".into()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    assert_eq!(body, OPENAPI.as_bytes(), "/openapi.json serves the file");

    let res = send(Method::GET, "/v1/no-such-route".into()).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let err: Value = serde_json::from_slice(&body).unwrap();
    let fields: BTreeSet<&str> = err
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let d = doc();
    let documented: BTreeSet<&str> = d["components"]["schemas"]["Error"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(fields, documented, "error shape");
    assert_eq!(err["status"], 404);
}
