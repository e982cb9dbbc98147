//! `hotline peer add … --url URL --url URL`: a peer's node at several
//! addresses (its replicas), tried in turn. Real nodes only: a dead address
//! is a loopback port nobody listens on, a moved node is a real node
//! stopped and started again on another port.

use std::path::{Path, PathBuf};

use super::federation::{pair, wait_converged};
use super::util::*;

/// A loopback port nobody listens on (bound, then released).
fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The keys file [`federate`] exported for `p`.
fn keys_of(p: &Party) -> PathBuf {
    p.dir.join("../exported.keys")
}

fn pin_ru_at(us: &Party, ru: &Party, urls: &[&str]) -> String {
    let keys = keys_of(ru);
    let mut args = vec!["peer", "add", "ru", "--keys", keys.to_str().unwrap()];
    for u in urls {
        args.extend(["--url", u]);
    }
    args.extend(["--dir", us.d()]);
    ok(&args)
}

fn status(p: &Party) -> serde_json::Value {
    json(&ok(&["status", "--dir", p.d(), "--json"]))
}

/// us's view of its peer ru in `hotline status --json`.
fn ru_in_status(us: &Party) -> serde_json::Value {
    let s = status(us);
    s["peers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["peer"] == "ru")
        .cloned()
        .unwrap_or_else(|| panic!("ru is not in us's status: {s}"))
}

fn peer_file(dir: &Path) -> serde_json::Value {
    json(&std::fs::read_to_string(dir.join("peers/ru.json")).unwrap())
}

#[test]
fn a_dead_first_address_is_passed_over_and_delivery_goes_through_the_second() {
    let (us, ru) = pair();
    let (a, b) = (Served::start(&us.dir), Served::start(&ru.dir));
    federate(&us, &ru);
    let dead = format!("https://127.0.0.1:{}", dead_port());
    let live = format!("https://{}", b.peer_addr);
    pin_ru_at(&us, &ru, &[&dead, &live]);
    // Stored in order, in `urls`.
    let file = peer_file(&us.dir);
    assert_eq!(file["urls"], serde_json::json!([dead, live]), "{file}");
    assert!(file.get("url").is_none(), "{file}");

    agree(&us, &ru, &example("cyber-agreement.toml"));
    send(&us, "us/fbi", "ru/fsb", "through the second address");
    send(&ru, "ru/fsb", "us/fbi", "and back");
    wait_converged(&us, &ru, 60);

    let p = ru_in_status(&us);
    assert_eq!(p["url"], live.as_str(), "the live address is in use: {p}");
    let addrs = p["addresses"].as_array().unwrap();
    assert_eq!(addrs.len(), 2, "{p}");
    assert_eq!(addrs[0]["url"], dead.as_str());
    assert_eq!(addrs[0]["in_use"], false);
    assert!(addrs[0]["last_ok"].is_null(), "{p}");
    assert!(
        addrs[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("cannot connect")),
        "the dead address's error is kept: {p}"
    );
    assert_eq!(addrs[1]["url"], live.as_str());
    assert_eq!(addrs[1]["in_use"], true);
    assert!(addrs[1]["last_ok"].is_string(), "{p}");
    assert_eq!(p["link"]["up"], true, "{p}");

    let list = json(&ok(&["peer", "list", "--dir", us.d(), "--json"]));
    let entry = &list[0];
    assert_eq!(entry["urls"], serde_json::json!([dead, live]), "{list}");
    assert_eq!(entry["url"], live.as_str(), "{list}");
    assert_eq!(entry["addresses"][1]["in_use"], true, "{list}");
    let text = ok(&["peer", "list", "--dir", us.d()]);
    assert!(
        text.contains(&format!("address {live} (in use; last answered")),
        "{text}"
    );
    assert!(
        text.contains(&format!("address {dead} (last error")),
        "{text}"
    );
    let text = ok(&["status", "--dir", us.d()]);
    assert!(text.contains(&format!("address {live} (in use)")), "{text}");
    drop((a, b));
}

#[test]
fn a_node_that_moves_to_its_second_address_keeps_receiving() {
    let (us, ru) = pair();
    let (a, b) = (Served::start(&us.dir), Served::start(&ru.dir));
    federate(&us, &ru);
    let first = format!("https://{}", b.peer_addr);
    let moved = format!("127.0.0.1:{}", dead_port());
    let second = format!("https://{moved}");
    pin_ru_at(&us, &ru, &[&first, &second]);
    agree(&us, &ru, &example("cyber-agreement.toml"));
    send(&us, "us/fbi", "ru/fsb", "to the first address");
    wait_converged(&us, &ru, 60);
    assert_eq!(ru_in_status(&us)["url"], first.as_str());

    // ru stops, and comes back on the second listed address.
    b.kill9();
    send(&us, "us/fbi", "ru/fsb", "written while ru is down");
    let b = Served::start_at(&ru.dir, "127.0.0.1:0", &moved);
    assert_eq!(b.peer_addr, moved);
    send(&us, "us/fbi", "ru/fsb", "after ru moved");
    send(&ru, "ru/fsb", "us/fbi", "from ru's new place");
    wait_converged(&us, &ru, 60);

    let p = ru_in_status(&us);
    assert_eq!(
        p["url"],
        second.as_str(),
        "the second address is in use: {p}"
    );
    assert_eq!(p["addresses"][1]["in_use"], true, "{p}");
    assert!(
        p["addresses"][0]["last_error"].is_string(),
        "the first address's failure is kept: {p}"
    );
    // `wait_converged` checked that ru receipted each of them exactly once.
    let messages = log_json(us.d())
        .iter()
        .filter(|l| l["header"]["kind"] == "message")
        .count();
    assert_eq!(messages, 3, "us sent three messages");
    drop((a, b));
}

#[test]
fn bad_addresses_are_refused_and_nothing_is_pinned() {
    let us = Party::new("us");
    let ru = Party::new("ru");
    let keys = ru.dir.join("../ru.keys");
    std::fs::write(&keys, ok(&["keys", "export", "--dir", ru.d()])).unwrap();
    let add = |urls: &[&str]| {
        let mut args = vec!["peer", "add", "ru", "--keys", keys.to_str().unwrap()];
        for u in urls {
            args.extend(["--url", u]);
        }
        args.extend(["--dir", us.d()]);
        fails(&args)
    };
    let nothing_pinned = |what: &str| {
        assert!(
            !us.dir.join("peers/ru.json").exists(),
            "{what}: a peer file was written"
        );
    };
    let e = add(&["https://127.0.0.1:7701", "ru.example:7701"]);
    assert!(
        e.contains("\"ru.example:7701\" is not a peer address"),
        "{e}"
    );
    assert!(e.contains("nothing was pinned"), "{e}");
    nothing_pinned("not a URL");
    let e = add(&["http://127.0.0.1:7701"]);
    assert!(e.contains("the scheme must be https"), "{e}");
    nothing_pinned("http");
    let e = add(&["https://127.0.0.1:7701", "https://127.0.0.1:7701/"]);
    assert!(e.contains("https://127.0.0.1:7701 is listed twice"), "{e}");
    nothing_pinned("a duplicate");
    let many: Vec<String> = (1..=9)
        .map(|i| format!("https://127.0.0.1:77{i:02}"))
        .collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let e = add(&many);
    assert!(e.contains("9 addresses given; a peer has at most 8"), "{e}");
    nothing_pinned("nine addresses");
    // Eight is the limit, not beyond it.
    add_ok(&us, &keys, &many[..8]);
    assert_eq!(peer_file(&us.dir)["urls"].as_array().unwrap().len(), 8);
    // A peer file edited by hand gets no more trust: the node does not start.
    let mut file = peer_file(&us.dir);
    file["urls"][1] = file["urls"][0].clone();
    std::fs::write(us.dir.join("peers/ru.json"), file.to_string()).unwrap();
    let e = fails(&[
        "serve",
        "--dir",
        us.d(),
        "--listen",
        "127.0.0.1:0",
        "--peer-listen",
        "127.0.0.1:0",
    ]);
    assert!(
        e.contains("peers/ru.json: https://127.0.0.1:7701 is listed twice"),
        "{e}"
    );
    assert!(e.contains("this node does not start with it"), "{e}");
}

fn add_ok(us: &Party, keys: &Path, urls: &[&str]) {
    let mut args = vec!["peer", "add", "ru", "--keys", keys.to_str().unwrap()];
    for u in urls {
        args.extend(["--url", u]);
    }
    args.extend(["--dir", us.d()]);
    ok(&args);
}

#[test]
fn the_api_refuses_a_duplicate_address_and_writes_nothing() {
    let us = Party::new("us");
    let ru = Party::new("ru");
    let a = Served::start(&us.dir);
    let mut id = json(&ok(&["keys", "export", "--dir", ru.d()]));
    id["urls"] = serde_json::json!(["https://127.0.0.1:7701", "https://127.0.0.1:7701"]);
    let (code, body) = a.request("POST", "/v1/peers", id.to_string().as_bytes());
    assert_eq!(code, 400, "{body}");
    assert!(
        body.contains("peer ru: https://127.0.0.1:7701 is listed twice"),
        "{body}"
    );
    assert!(!us.dir.join("peers/ru.json").exists());
    // `url` and `urls` together are one list: url first.
    id["url"] = serde_json::json!("https://127.0.0.1:7700");
    id["urls"] = serde_json::json!(["https://127.0.0.1:7701"]);
    let (code, body) = a.request("POST", "/v1/peers", id.to_string().as_bytes());
    assert_eq!(code, 201, "{body}");
    let list = json(&ok(&["peer", "list", "--dir", us.d(), "--json"]));
    assert_eq!(
        list[0]["urls"],
        serde_json::json!(["https://127.0.0.1:7700", "https://127.0.0.1:7701"]),
        "{list}"
    );
    drop(a);
}
