use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::util::{Party, Served, fails};

/// After a crash, `run/api.addr` still names the port the node had. Whoever
/// binds it next must not receive the API token from the CLI: the CLI
/// reaches its own node over the Unix socket in `run/`, never over that
/// port, and says the node is not running.
#[test]
fn a_stale_address_file_does_not_leak_the_api_token() {
    let us = Party::new("us");
    let served = Served::start(&us.dir);
    let (addr, token) = (served.addr.clone(), served.token.clone());
    served.kill9();
    assert!(
        us.dir.join("run/api.addr").exists(),
        "a killed node leaves its address file"
    );

    // A listener that pretends to be the node and records what it gets.
    let squatter = TcpListener::bind(&addr).expect("binding the node's old port");
    let got = Arc::new(Mutex::new(Vec::<u8>::new()));
    let record = got.clone();
    std::thread::spawn(move || {
        for s in squatter.incoming() {
            let Ok(mut s) = s else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
            let mut buf = [0u8; 4096];
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 {
                    break;
                }
                record.lock().unwrap().extend_from_slice(&buf[..n]);
                let body = br#"{"status":"ok","party":"us","log_size":1}"#;
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(body);
            }
        }
    });

    let err = fails(&["status", "--dir", us.d()]);
    assert!(err.contains("is not running"), "{err}");
    let err = fails(&[
        "send",
        "--dir",
        us.d(),
        "--from",
        "us/fbi",
        "--to",
        "ru/fsb",
        "--text",
        "hi",
    ]);
    assert!(err.contains("is not running"), "{err}");
    std::thread::sleep(Duration::from_millis(200));
    let seen = String::from_utf8_lossy(&got.lock().unwrap()).into_owned();
    assert!(
        !seen.contains(&token),
        "the API token reached the process on the node's old port:\n{seen}"
    );
}
