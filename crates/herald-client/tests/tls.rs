//! https and wss end to end: a real hub serving TLS with a certificate from a CA made here
//! (rcgen), and the sync engine trusting that CA through a CA file — or refusing the hub, with a
//! reason a person can act on, when it is not given one.

use std::path::Path;
use std::time::Duration;

use herald_client::mirror::{Mirror, SharedMirror};
use herald_client::sync::{ConnectionState, SyncEngine, SyncEvent};
use herald_client::tls::Tls;
use herald_hub::store::NewNotification;
use herald_hub::{HubConfig, Store};
use tokio::io::AsyncWriteExt;
use tokio::sync::{broadcast, oneshot, watch};

struct TlsHub {
    url: String,
    addr: std::net::SocketAddr,
    store: Store,
    bob: i64,
    bob_token: String,
    _stop: oneshot::Sender<()>,
}

async fn start_tls_hub(dir: &Path) -> TlsHub {
    let names = ["localhost".to_owned(), "127.0.0.1".to_owned()];
    herald_hub::tls::issue_private_ca(&names).unwrap().write_to(dir).unwrap();
    let tls = herald_hub::tls::server_config(&dir.join("hub.pem"), &dir.join("hub.key")).unwrap();
    let store = Store::open_in_memory().unwrap();
    let (bob, bob_token) = store.add_user("bob").await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let config = HubConfig { tls: Some(tls), ..HubConfig::default() };
    tokio::spawn(herald_hub::run_with(listener, store.clone(), config, async move {
        let _ = stopped.await;
    }));
    TlsHub { url: format!("https://localhost:{}/", addr.port()), addr, store, bob: bob.id, bob_token, _stop: stop }
}

fn start_engine(hub: &TlsHub, tls: Tls) -> (broadcast::Receiver<SyncEvent>, SharedMirror, watch::Sender<bool>) {
    let mirror = SharedMirror::new(Mirror::open_in_memory().unwrap());
    let (events_tx, events) = broadcast::channel(1024);
    let engine =
        SyncEngine::new(Some(hub.url.parse().unwrap()), Some(hub.bob_token.clone()), mirror.clone(), events_tx)
            .with_tls(tls);
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(engine.run(stopped));
    (events, mirror, stop)
}

/// The next connection state the engine reports, within 20 s.
async fn next_state(events: &mut broadcast::Receiver<SyncEvent>) -> ConnectionState {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if let SyncEvent::Connection { state, .. } = events.recv().await.unwrap() {
                if state != ConnectionState::Connecting {
                    return state;
                }
            }
        }
    })
    .await
    .expect("no connection state within 20 s")
}

#[tokio::test]
async fn the_engine_syncs_over_https_and_wss_with_the_organisations_ca() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start_tls_hub(dir.path()).await;
    let before = hub.store.deliver(vec![hub.bob], NewNotification::new("over https")).await.unwrap()[0].id;

    let tls = Tls::load(Some(&dir.path().join("ca.pem"))).unwrap();
    let (mut events, mirror, _stop) = start_engine(&hub, tls);
    assert_eq!(next_state(&mut events).await, ConnectionState::Online);
    // The catch-up came over https; a new one comes over the wss feed.
    let live = hub.store.deliver(vec![hub.bob], NewNotification::new("over wss")).await.unwrap()[0].id;
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let subjects: Vec<String> =
                mirror.call(|m| m.list(None, 10)).await.unwrap().into_iter().map(|n| n.subject).collect();
            if subjects == ["over wss", "over https"] {
                return;
            }
            let _ = events.recv().await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("notifications {before} and {live} did not both arrive"));
}

#[tokio::test]
async fn a_hub_whose_certificate_no_trusted_root_signed_is_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start_tls_hub(dir.path()).await;
    hub.store.deliver(vec![hub.bob], NewNotification::new("secret")).await.unwrap();

    let (mut events, mirror, _stop) = start_engine(&hub, Tls::system());
    let ConnectionState::Offline { reason, retry_in_ms } = next_state(&mut events).await else {
        panic!("expected the engine offline")
    };
    assert_eq!(reason, "the hub's certificate is not trusted");
    assert!(retry_in_ms.is_some(), "it keeps trying: the CA may be configured later");
    assert!(mirror.call(|m| m.list(None, 10)).await.unwrap().is_empty(), "nothing was read from it");
}

#[tokio::test]
async fn plain_http_to_the_tls_port_and_a_silent_connection_get_nothing_and_block_nobody() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start_tls_hub(dir.path()).await;
    // Clients that connect and never say hello hold no one up (each may keep its handshake slot
    // for 10 s; the request below must not wait for that).
    let mut silent = Vec::new();
    for _ in 0..5 {
        silent.push(tokio::net::TcpStream::connect(hub.addr).await.unwrap());
    }
    let mut plain = tokio::net::TcpStream::connect(hub.addr).await.unwrap();
    plain.write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n").await.unwrap();

    let tls = Tls::load(Some(&dir.path().join("ca.pem"))).unwrap();
    let http = tls.http_client(Duration::from_secs(3));
    let health = http.get(format!("{}healthz", hub.url)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    // And plain HTTP was answered with no HTTP at all.
    let mut answer = Vec::new();
    let read =
        tokio::time::timeout(Duration::from_secs(10), tokio::io::AsyncReadExt::read_to_end(&mut plain, &mut answer));
    let _ = read.await;
    assert!(!answer.starts_with(b"HTTP/"), "{:?}", String::from_utf8_lossy(&answer));
}
