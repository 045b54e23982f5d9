//! A TCP proxy between the clients and the hub that breaks connections on request: resets one
//! (RST, as a crashed router or a Wi-Fi drop gives), stalls one (nothing moves for a while, as on
//! a congested link), or cuts one in the middle of what the hub was sending (half a frame arrives,
//! then the connection is gone). Written for the chaos test: what it needs is a choice of a live
//! connection at random, which tc/netem and toxiproxy do not give here without root or a daemon.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// One proxied connection's switches.
struct Link {
    id: u64,
    /// Closes both sides at once (with RST).
    reset: watch::Sender<bool>,
    /// Nothing is forwarded until this time.
    stalled_until: watch::Sender<Option<tokio::time::Instant>>,
    /// The next bytes from the hub are forwarded only in part, then the connection is reset.
    cut: Arc<AtomicBool>,
}

#[derive(Clone)]
pub struct ChaosProxy {
    pub addr: SocketAddr,
    links: Arc<Mutex<Vec<Link>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkFault {
    Reset,
    Stall(Duration),
    CutMidFrame,
}

impl ChaosProxy {
    /// Listens on a free port and forwards each connection to `upstream` (which may be down).
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let links = Arc::new(Mutex::new(Vec::new()));
        let next_id = Arc::new(AtomicU64::new(0));
        let accepting = links.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let id = next_id.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(forward(client, upstream, id, accepting.clone()));
            }
        });
        Self { addr, links }
    }

    /// Breaks one live connection, picked by `pick` among them; false if none was open.
    pub fn break_one(&self, fault: LinkFault, pick: impl FnOnce(usize) -> usize) -> bool {
        let links = self.links.lock().unwrap();
        if links.is_empty() {
            return false;
        }
        let link = &links[pick(links.len()) % links.len()];
        match fault {
            LinkFault::Reset => {
                let _ = link.reset.send(true);
            }
            LinkFault::Stall(how_long) => {
                let _ = link.stalled_until.send(Some(tokio::time::Instant::now() + how_long));
            }
            LinkFault::CutMidFrame => link.cut.store(true, Ordering::SeqCst),
        }
        true
    }
}

async fn forward(client: TcpStream, upstream: SocketAddr, id: u64, links: Arc<Mutex<Vec<Link>>>) {
    let Ok(hub) = TcpStream::connect(upstream).await else { return };
    // Dropping a socket with a zero linger sends RST: a reset, not a polite close.
    let _ = client.set_zero_linger();
    let _ = hub.set_zero_linger();
    let (reset, reset_rx) = watch::channel(false);
    let (stalled_until, stall_rx) = watch::channel(None);
    let cut = Arc::new(AtomicBool::new(false));
    links.lock().unwrap().push(Link { id, reset, stalled_until, cut: cut.clone() });
    let (client_read, client_write) = client.into_split();
    let (hub_read, hub_write) = hub.into_split();
    let no_cut = Arc::new(AtomicBool::new(false));
    tokio::select! {
        _ = pump(client_read, hub_write, stall_rx.clone(), no_cut) => {}
        _ = pump(hub_read, client_write, stall_rx, cut) => {}
        _ = wait_true(reset_rx) => {}
    }
    links.lock().unwrap().retain(|l| l.id != id);
}

/// Copies `from` to `to` until either ends, holding still while stalled; when `cut` is set, the
/// next chunk goes only in part and the copy ends.
async fn pump(
    mut from: impl AsyncReadExt + Unpin,
    mut to: impl AsyncWriteExt + Unpin,
    mut stall: watch::Receiver<Option<tokio::time::Instant>>,
    cut: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let until = *stall.borrow_and_update();
        if let Some(until) = until {
            tokio::time::sleep_until(until).await;
        }
        if cut.load(Ordering::SeqCst) {
            let _ = to.write_all(&buf[..n.div_ceil(2)]).await;
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

async fn wait_true(mut flag: watch::Receiver<bool>) {
    let _ = flag.wait_for(|&set| set).await;
}
