use super::util::*;

fn size(dir: &str) -> usize {
    log_json(dir).len()
}

#[test]
fn api_refuses_bad_requests_and_writes_nothing() {
    let us = Party::new("us");
    ok(&["office", "add", "us/fbi", "--dir", us.d()]);
    ok(&["office", "add", "us/state", "--dir", us.d()]);
    let node = Served::start(&us.dir);
    let before = size(us.d());
    let cp_before = ok(&["checkpoint", "--dir", us.d()]);

    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "malformed JSON",
            br#"{"from":"us/fbi","#.to_vec(),
            400,
            "malformed request",
        ),
        ("not an object", b"[1,2]".to_vec(), 400, "malformed request"),
        (
            "unknown field",
            br#"{"from":"us/fbi","to":"us/state","text":"x","cc":"ru/fsb"}"#.to_vec(),
            400,
            "unknown field",
        ),
        (
            "bad office name",
            br#"{"from":"fbi","to":"us/state","text":"x"}"#.to_vec(),
            400,
            "party/office",
        ),
        (
            "unknown office",
            br#"{"from":"us/cia","to":"us/state","text":"x"}"#.to_vec(),
            404,
            "unknown office us/cia",
        ),
        (
            "other party's office as sender",
            br#"{"from":"ru/fsb","to":"us/state","text":"x"}"#.to_vec(),
            400,
            "not an office of this party",
        ),
        (
            "unpinned party",
            br#"{"from":"us/fbi","to":"ru/fsb","text":"x"}"#.to_vec(),
            404,
            "unknown party ru",
        ),
        (
            "empty text",
            br#"{"from":"us/fbi","to":"us/state","text":""}"#.to_vec(),
            400,
            "empty",
        ),
        (
            "text over 64 KiB",
            format!(
                r#"{{"from":"us/fbi","to":"us/state","text":"{}"}}"#,
                "x".repeat(65_537)
            )
            .into_bytes(),
            413,
            "the limit is 65536 bytes",
        ),
        (
            "body over 1 MiB",
            format!(
                r#"{{"from":"us/fbi","to":"us/state","text":"{}"}}"#,
                "x".repeat(1_100_000)
            )
            .into_bytes(),
            413,
            "over the node's limit",
        ),
    ];
    for (what, body, status, needle) in cases {
        let (s, text) = node.request("POST", "/v1/messages", &body);
        assert_eq!(s, status, "{what}: {text}");
        let err: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{what}: error is not JSON: {text}"));
        assert!(
            err["error"].as_str().unwrap().contains(needle),
            "{what}: {text}"
        );
        assert_eq!(err["status"], status, "{what}");
    }

    // Wrong or missing token.
    let (s, _) = http(
        &node.addr,
        "POST",
        "/v1/messages",
        Some("nope"),
        br#"{"from":"us/fbi","to":"us/state","text":"x"}"#,
    );
    assert_eq!(s, 401);
    let (s, _) = http(&node.addr, "GET", "/v1/log", None, b"");
    assert_eq!(s, 401);
    let (s, t) = node.request("GET", "/v1/nothing-here", b"");
    assert_eq!(s, 404, "{t}");

    // Query and path errors are JSON too, and a start beyond any log is bad input, not a crash.
    for (path, needle) in [
        ("/v1/log?start=abc", "malformed query"),
        ("/v1/log?start=9223372036854775808", "beyond any log"),
        ("/v1/proofs/entry/abc", "malformed path"),
    ] {
        let (s, t) = node.request("GET", path, b"");
        assert_eq!(s, 400, "{path}: {t}");
        assert!(t.contains(needle), "{path}: {t}");
    }
    let (s, t) = node.request(
        "POST",
        "/v1/messages",
        br#"{"from":"us/fbi","to":"us/state","text":"x","lang":"not a tag"}"#,
    );
    assert_eq!(s, 400, "{t}");
    assert!(t.contains("language tag"), "{t}");
    let (s, t) = node.request("POST", "/v1/offices", br#"{"office":"us/fbi"}"#);
    assert_eq!(s, 409, "{t}");

    assert_eq!(size(us.d()), before, "nothing was appended");
    assert_eq!(
        ok(&["checkpoint", "--dir", us.d()]),
        cp_before,
        "the checkpoint did not move"
    );
    let (s, m) = node.request("GET", "/metrics", b"");
    assert_eq!(s, 200);
    // 10 bad bodies, 2 bad tokens, 1 unknown path, 3 bad queries/paths, 1 bad lang, 1 duplicate office.
    let rejected: u64 = m
        .lines()
        .find_map(|l| l.strip_prefix("hotline_requests_rejected_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no rejection counter: {m}"));
    assert_eq!(rejected, 18, "every refusal is counted");

    // And the node still works.
    let (s, t) = node.request(
        "POST",
        "/v1/messages",
        br#"{"from":"us/fbi","to":"us/state","text":"still here"}"#,
    );
    assert_eq!(s, 201, "{t}");
    assert_eq!(size(us.d()), before + 1);
}

#[test]
fn cli_says_what_to_do() {
    let us = Party::new("us");
    ok(&["office", "add", "us/fbi", "--dir", us.d()]);
    let err = fails(&send_args(&us, "us/fbi", "us/fbi", &["--text", "x"]));
    assert!(
        err.contains("not running") && err.contains("hotline serve --dir"),
        "{err}"
    );
    let err = fails(&["office", "add", "ru/fsb", "--dir", us.d()]);
    assert!(err.contains("does not belong to this party"), "{err}");
    let err = fails(&["office", "add", "us/fbi", "--dir", us.d()]);
    assert!(err.contains("already exists"), "{err}");
    let err = fails(&["log", "--dir", us.dir.join("../nowhere").to_str().unwrap()]);
    assert!(err.contains("hotline init"), "{err}");
    let err = fails(&["prove", "entry", "99", "--dir", us.d()]);
    assert!(err.contains("no entry 99"), "{err}");
    assert_eq!(log_json(us.d()).len(), 1, "only the office's key entry");
}
