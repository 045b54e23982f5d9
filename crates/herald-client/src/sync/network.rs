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

    /// Waits for the kernel's next messages and reads all that are there.
    pub(super) async fn next_change(socket: &AsyncFd<OwnedFd>) -> io::Result<()> {
        let mut buffer = [0u8; 8192];
        loop {
            let mut ready = socket.readable().await?;
            let mut read_any = false;
            loop {
                match rustix::net::recv(socket.get_ref(), &mut buffer, RecvFlags::DONTWAIT) {
                    Ok(_) => read_any = true,
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
