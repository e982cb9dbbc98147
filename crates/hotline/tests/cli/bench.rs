use super::util::{fails, fresh_database, ok};

fn figures(args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(args)).expect("bench --json prints JSON")
}

fn num(v: &serde_json::Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("no {field} in {v}"))
}

#[test]
fn absence_bundle_discloses_no_other_channel_and_the_node_starts_on_the_log() {
    let v = figures(&[
        "bench",
        "absence",
        "--entries",
        "3000",
        "--runs",
        "1",
        "--json",
    ]);
    // The month's 3,000 entries of other channels are not in it: the key
    // history (3 offices) and the channel's last entry before the month.
    assert_eq!(num(&v, "disclosed_entries"), 4, "{v}");
    assert!(
        num(&v, "bundle_bytes") <= num(&v, "goal_bundle_bytes"),
        "{v}"
    );
    assert_eq!(num(&v, "log_size"), 4003, "{v}");
    assert!(
        v["startup"]["index_keys"].as_u64().unwrap_or(0) > 100,
        "{v}"
    );
}

#[test]
fn stats_bundle_follows_the_channel_not_the_log() {
    let run = |entries: &str| {
        figures(&[
            "bench",
            "stats",
            "--entries",
            entries,
            "--inquiries",
            "5",
            "--runs",
            "1",
            "--json",
        ])
    };
    let (small, large) = (run("600"), run("4000"));
    for v in [&small, &large] {
        assert_eq!(num(v, "sent"), 5, "{v}");
        assert_eq!(num(v, "ack_met"), 5, "{v}");
        assert_eq!(num(v, "answer_met"), 5, "{v}");
        // Each thread's six entries, the agreement's proposal and signature,
        // both key histories (three offices each); nothing of other traffic.
        assert_eq!(num(v, "disclosed_entries"), 5 * 6 + 2 + 6, "{v}");
    }
    let (a, b) = (num(&small, "bundle_bytes"), num(&large, "bundle_bytes"));
    assert!(
        b * 4 < a * 5,
        "6.7× the log's entries made the bundle grow from {a} to {b} bytes"
    );
}

#[test]
fn takeover_kills_the_lease_holder_each_round_and_times_the_next_append() {
    let url = fresh_database("bench_takeover");
    let v = figures(&[
        "bench", "takeover", "--store", &url, "--rounds", "2", "--json",
    ]);
    assert_eq!(num(&v, "rounds"), 2, "{v}");
    assert_eq!(v["lease_secs"].as_f64(), Some(3.0), "{v}");
    for field in ["min_ms", "median_ms", "max_ms"] {
        assert!(v[field].as_f64().is_some_and(|ms| ms > 0.0), "{field}: {v}");
    }
    assert_eq!(v["round_ms"].as_array().map(Vec::len), Some(2), "{v}");
    assert!(v["min_ms"].as_f64() <= v["max_ms"].as_f64(), "{v}");
    // The database now holds us's log: a second run is refused.
    let err = fails(&["bench", "takeover", "--store", &url, "--rounds", "1"]);
    assert!(err.contains("holds party us's log"), "{err}");
}

#[test]
fn takeover_on_a_server_nobody_runs_fails_without_showing_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let url = format!("postgresql://hotline:secret-pw-9@127.0.0.1:{port}/nobody");
    let err = fails(&["bench", "takeover", "--store", &url, "--rounds", "1"]);
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(err.contains("needs a database holding no log"), "{err}");
    assert!(!err.contains("secret-pw-9"), "the password shown: {err}");
}
