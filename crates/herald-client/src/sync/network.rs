//! Noticing that the network changed: a link came up or went down, an address was added or
//! removed (a laptop moved to another Wi-Fi, a VPN came up, a cable was plugged in). Offline, the
//! engine then tries the hub at once instead of waiting out its backoff; online, it checks that
//! its connection survived.
//!
//! On Linux the kernel says so itself, on a netlink socket subscribed to link and address events:
//! no daemon (NetworkManager or systemd-networkd may or may not run), no polling, so no periodic
//! wake-up. Elsewhere nothing is noticed yet (Windows' NotifyIpInterfaceChange and macOS'
//! SCNetworkReachability would be the sources; neither can be built or tried here): the engine
//! falls back on its backoff and on missed pings.

/// A source of "the network changed" moments; one per engine.
pub struct NetworkWatch {
    #[cfg(target_os = "linux")]
    socket: Option<tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>>,
}

impl NetworkWatch {
    /// Watches the network of the calling thread's namespace; one that cannot watch (another
    /// platform, a sandbox without netlink) never reports a change, and says so in the log once.
    /// Needs a tokio runtime.
    pub fn open() -> Self {
        #[cfg(target_os = "linux")]
        {
            match linux::socket().and_then(Self::from_socket) {
                Ok(watch) => watch,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot watch for network changes; reconnects wait for the backoff");
                    Self { socket: None }
                }
            }
        }
        #[cfg(not(target_os = "linux"))]
        Self {}
    }

    /// Watches through a netlink socket made by [`linux::socket`] (the sync tests make it inside
    /// a network namespace of their own).
    #[cfg(target_os = "linux")]
    pub fn from_socket(socket: std::os::fd::OwnedFd) -> std::io::Result<Self> {
        // `AsyncFd::new` is deprecated for descriptors whose owner might close them while
        // registered; an `OwnedFd` moved into it lives exactly as long as the registration, which
        // is what the unsafe `register` asks of its caller (and this workspace forbids `unsafe`).
        #[allow(deprecated)]
        let socket = tokio::io::unix::AsyncFd::new(socket)?;
        Ok(Self { socket: Some(socket) })
    }

    /// Resolves at the next change (a burst of the kernel's messages counts as one); never, if
    /// nothing can be watched.
    pub async fn changed(&mut self) {
        #[cfg(target_os = "linux")]
        if let Some(socket) = &self.socket {
            match linux::next_change(socket).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "network watch failed; reconnects wait for the backoff");
                    self.socket = None;
                }
            }
        }
        std::future::pending::<()>().await;
    }
}

#[cfg(target_os = "linux")]
pub mod linux {
    /// Whether a datagram of route netlink messages tells a change worth a reconnect: a link
    /// added, removed or whose flags changed (up, down, carrier), or an address added or removed.
    /// A link message that changes no flag is left out: Wi-Fi drivers send one per scan.
    pub fn tells_a_change(datagram: &[u8]) -> bool {
        const RTM_NEWLINK: u16 = 16;
        const RTM_DELLINK: u16 = 17;
        const RTM_NEWADDR: u16 = 20;
        const RTM_DELADDR: u16 = 21;
        let u32_at = |at: usize| datagram.get(at..at + 4).map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
        let mut at = 0;
        // Each message: a 16-byte header (length, type, …), then its body, aligned to 4 bytes.
        while let (Some(length), Some(kind)) =
            (u32_at(at), datagram.get(at + 4..at + 6).map(|b| u16::from_ne_bytes([b[0], b[1]])))
        {
            let changed = match kind {
                // The body starts with an ifinfomsg, whose `ifi_change` is at 12.
                RTM_NEWLINK => u32_at(at + 16 + 12).is_some_and(|change| change != 0),
                RTM_DELLINK | RTM_NEWADDR | RTM_DELADDR => true,
                _ => false,
            };
            if changed {
                return true;
            }
            let length = length as usize;
            if length < 16 {
                return false;
            }
            at += (length + 3) & !3;
        }
        false
    }

    use std::io;
    use std::os::fd::OwnedFd;

    use rustix::io::Errno;
    use rustix::net::netlink::SocketAddrNetlink;
    use rustix::net::{AddressFamily, RecvFlags, SocketFlags, SocketType};
    use tokio::io::unix::AsyncFd;

    // The multicast groups of <linux/rtnetlink.h>: links, IPv4 and IPv6 addresses.
    const RTMGRP_LINK: u32 = 0x1;
    const RTMGRP_IPV4_IFADDR: u32 = 0x10;
    const RTMGRP_IPV6_IFADDR: u32 = 0x100;

    /// A non-blocking route netlink socket subscribed to link and address changes, in the
    /// calling thread's network namespace.
    pub fn socket() -> io::Result<OwnedFd> {
        let socket = rustix::net::socket_with(
            AddressFamily::NETLINK,
            SocketType::RAW,
            SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
            None, // NETLINK_ROUTE
        )?;
        let groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
        rustix::net::bind(&socket, &SocketAddrNetlink::new(0, groups))?;
        Ok(socket)
    }

    /// Waits for the kernel's next messages that tell a change and reads all that are there.
    pub(super) async fn next_change(socket: &AsyncFd<OwnedFd>) -> io::Result<()> {
        let mut buffer = [0u8; 8192];
        loop {
            let mut ready = socket.readable().await?;
            let mut read_any = false;
            loop {
                match rustix::net::recv(socket.get_ref(), &mut buffer, RecvFlags::DONTWAIT) {
                    Ok((_, length)) => read_any |= tells_a_change(&buffer[..length.min(buffer.len())]),
                    // More changes than the socket could hold: a change all the same.
                    Err(Errno::NOBUFS) => read_any = true,
                    Err(Errno::AGAIN) => {
                        ready.clear_ready();
                        break;
                    }
                    Err(Errno::INTR) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            if read_any {
                return Ok(());
            }
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::linux::tells_a_change;

    /// A route netlink message: the 16-byte header, then `body`.
    fn message(kind: u16, body: &[u8]) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend(((16 + body.len()) as u32).to_ne_bytes());
        m.extend(kind.to_ne_bytes());
        m.extend([0u8; 10]);
        m.extend(body);
        m
    }

    /// A link message's ifinfomsg: family, type, index, flags, then `ifi_change`.
    fn link(change: u32) -> Vec<u8> {
        let mut body = vec![0u8; 12];
        body.extend(change.to_ne_bytes());
        message(16, &body)
    }

    #[test]
    fn links_changing_flags_and_addresses_count_and_wifi_scans_do_not() {
        assert!(tells_a_change(&link(1)), "a link went up");
        assert!(!tells_a_change(&link(0)), "a link message that changes nothing: a Wi-Fi scan");
        assert!(tells_a_change(&message(20, &[0; 8])), "an address added");
        assert!(tells_a_change(&message(21, &[0; 8])), "an address removed");
        assert!(tells_a_change(&[link(0), message(20, &[0; 8])].concat()), "the second message of a datagram");
        assert!(!tells_a_change(&message(24, &[0; 12])), "a route: not on its own");
        assert!(!tells_a_change(&link(1)[..20]), "a cut message is not read past its end");
        assert!(!tells_a_change(&[]));
    }
}
