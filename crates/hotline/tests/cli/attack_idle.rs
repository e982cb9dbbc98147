use std::io::Read as _;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::hostile::{receipt_for, stage};
use super::util::{Served, send};

/// Anyone who can reach the peer port can open sockets and never start a
/// TLS handshake. 256 of them (the node's whole connection budget) must not
/// keep the pinned peer out: its push is delivered and receipted promptly,
/// and the idle sockets are closed by the handshake timeout.
#[test]
fn idle_sockets_on_the_peer_port_do_not_keep_the_pinned_peer_out() {
    let (us, ru, a, b, _agreement) = stage();
    let opened = Instant::now();
    let mut idle: Vec<TcpStream> = (0..256)
        .map(|_| TcpStream::connect(&b.peer_addr).expect("connecting an idle socket"))
        .collect();
    // Let ru accept them all before us comes back.
    std::thread::sleep(Duration::from_millis(500));
    // us restarts (where ru pinned it), so its next push needs a new
    // handshake while the idle sockets are there.
    let (api, peer) = (a.addr.clone(), a.peer_addr.clone());
    a.kill9();
    let _a = Served::start_at(&us.dir, &api, &peer);

    let sent = Instant::now();
    let index = send(&us, "us/fbi", "ru/fsb", "through the crowd");
    let receipt = receipt_for(&ru, "us", index);
    let took = sent.elapsed();
    assert_eq!(receipt["header"]["status"], "delivered", "{receipt}");
    assert!(
        took < Duration::from_secs(5),
        "the push took {took:?} with 256 idle sockets on the peer port"
    );

    // Every idle socket is closed by ru: evicted at once or timed out after
    // the handshake timeout (10 s), never left open.
    for s in &mut idle {
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut buf = [0u8; 16];
        match s.read(&mut buf) {
            Ok(0) => {}
            Ok(n) => panic!("an idle socket received {n} bytes"),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!("an idle socket was not closed: {e}"),
        }
    }
    assert!(
        opened.elapsed() < Duration::from_secs(14),
        "the idle sockets were closed only after {:?}",
        opened.elapsed()
    );
}
