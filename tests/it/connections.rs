//! The connection layer against a hostile client: silent, slow and idle connections are
//! closed on time, an announced oversized body is refused before it is sent, and the
//! connection cap holds, while `/healthz` keeps answering.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, spawn_app, test_config};

fn addr(app: &TestApp) -> String {
    app.base_url.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection (EOF or reset) and returns what it sent;
/// panics if it is still open after `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration, what: &str) -> Vec<u8> {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left =
            within.checked_sub(started.elapsed()).unwrap_or_else(|| panic!("{what}: still open after {within:?}"));
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => panic!("{what}: still open after {within:?} (received {:?})", String::from_utf8_lossy(&received)),
            Ok(Ok(0)) | Ok(Err(_)) => return received,
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
}

/// Asserts `/healthz` answers 200 within a second, every 200 ms, until `until` is dropped.
async fn healthz_throughout(app: &TestApp, mut until: tokio::sync::oneshot::Receiver<()>) -> usize {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(1)).build().unwrap();
    let mut answered = 0;
    loop {
        let resp = client.get(app.url("/healthz")).send().await.expect("/healthz answers within 1 s");
        assert_eq!(resp.status(), 200);
        answered += 1;
        tokio::select! {
            _ = &mut until => return answered,
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    }
}

async_test!(silent_slow_and_idle_connections_are_closed_while_healthz_answers);
async fn silent_slow_and_idle_connections_are_closed_while_healthz_answers() {
    let mut config = test_config();
    config.http.header_read_timeout_secs = 1;
    config.http.body_read_timeout_secs = 2;
    config.http.idle_timeout_secs = 3;
    let app = spawn_app(config).await;
    let addr = addr(&app);
    let (done, until) = tokio::sync::oneshot::channel();

    let checks = async {
        let mut silent = Vec::new();
        for _ in 0..30 {
            silent.push(TcpStream::connect(&addr).await.unwrap());
        }
        // Slowloris: one header line every 300 ms, never the blank line that ends them.
        let mut slow = Vec::new();
        for i in 0..3 {
            let mut s = TcpStream::connect(&addr).await.unwrap();
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
            let (mut read, mut write) = s.into_split();
            tokio::spawn(async move {
                for n in 0.. {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    if write.write_all(format!("X-Slow-{i}: {n}\r\n").as_bytes()).await.is_err() {
                        break;
                    }
                }
            });
            slow.push(async move {
                let mut buf = [0u8; 1024];
                tokio::time::timeout(Duration::from_secs(4), async {
                    loop {
                        match read.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(_) => {}
                        }
                    }
                })
                .await
                .expect("a connection sending a header line every 300 ms is closed");
            });
        }
        // A body announced as a terabyte: refused before a byte of it is sent.
        let mut huge = TcpStream::connect(&addr).await.unwrap();
        huge.write_all(
            b"POST /v1/log HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n",
        )
        .await
        .unwrap();
        let sent = Instant::now();
        let answer = String::from_utf8(closed_within(&mut huge, Duration::from_secs(2), "huge body").await).unwrap();
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains(r#""code":"too_large""#), "{answer}");
        assert!(sent.elapsed() < Duration::from_millis(900), "refused at once, not after a timeout");
        // A body that stops coming: 408 after the body-read timeout.
        let mut stalled = TcpStream::connect(&addr).await.unwrap();
        stalled
            .write_all(b"POST /v1/log HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"logs\"")
            .await
            .unwrap();
        let answer =
            String::from_utf8(closed_within(&mut stalled, Duration::from_secs(4), "stalled body").await).unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains(r#""code":"timeout""#), "{answer}");
        // Kept alive after an answer: the idle timeout (3 s), not the header one (1 s), applies.
        let mut idle = TcpStream::connect(&addr).await.unwrap();
        idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut buf = [0u8; 1024];
        let n = idle.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&buf[..n]));
        let early = tokio::time::timeout(Duration::from_millis(1800), idle.read(&mut buf)).await;
        assert!(early.is_err(), "an idle kept-alive connection stays open past the header-read timeout");
        closed_within(&mut idle, Duration::from_secs(4), "idle kept-alive connection").await;

        for (i, s) in silent.iter_mut().enumerate() {
            // They were opened seconds ago: each must already be closed (or be within a second).
            let received = closed_within(s, Duration::from_secs(2), &format!("silent connection {i}")).await;
            assert!(received.is_empty() || received.starts_with(b"HTTP/1.1 408"), "{received:?}");
        }
        futures_util::future::join_all(slow).await;
        let _ = done.send(());
    };
    let (answered, ()) = tokio::join!(healthz_throughout(&app, until), checks);
    assert!(answered >= 5, "/healthz was asked all along ({answered} times)");
}

/// A request that stays in flight: its body announced, a byte of it sent, the rest never.
async fn busy_connection(addr: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"POST /v1/log HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        .await
        .unwrap();
    s
}

/// A server with room for two connections, and its address.
async fn two_slots() -> (TestApp, String) {
    let mut config = test_config();
    config.http.max_connections = 2;
    config.http.header_read_timeout_secs = 30;
    let app = spawn_app(config).await;
    let addr = addr(&app);
    (app, addr)
}

async_test!(beyond_the_connection_cap_clients_wait_for_a_slot);
async fn beyond_the_connection_cap_clients_wait_for_a_slot() {
    let (app, addr) = two_slots().await;
    let first = busy_connection(&addr).await;
    let _second = busy_connection(&addr).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let impatient = reqwest::Client::builder().timeout(Duration::from_millis(800)).build().unwrap();
    let refused = impatient.get(app.url("/healthz")).send().await;
    assert!(refused.is_err(), "a third connection is not served while two requests hold the slots: {refused:?}");

    drop(first);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let resp = client.get(app.url("/healthz")).send().await.expect("served once a slot frees");
    assert_eq!(resp.status(), 200);
}

async_test!(at_the_connection_cap_the_longest_idle_connection_makes_room);
async fn at_the_connection_cap_the_longest_idle_connection_makes_room() {
    let (app, addr) = two_slots().await;
    let mut oldest = TcpStream::connect(&addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut newer = TcpStream::connect(&addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let client = reqwest::Client::builder().timeout(Duration::from_secs(1)).build().unwrap();
    let resp = client.get(app.url("/healthz")).send().await.expect("served at once, silent connections or not");
    assert_eq!(resp.status(), 200);
    closed_within(&mut oldest, Duration::from_secs(1), "the longest silent connection").await;
    let mut buf = [0u8; 16];
    let still = tokio::time::timeout(Duration::from_millis(300), newer.read(&mut buf)).await;
    assert!(still.is_err(), "only one connection is shed for one newcomer: {still:?}");
}
