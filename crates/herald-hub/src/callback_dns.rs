//! Name resolution for callbacks: a callback URL's host name is resolved at each delivery, and
//! the link-local and cloud metadata addresses among the answers are dropped. Checking the name
//! when the URL is set is not enough: `erp.example.org` may resolve to 169.254.169.254 then or
//! later (DNS rebinding), and the hub would post its callback, and follow nothing else, to the
//! machine's own metadata service. The addresses are checked where they are connected to, so
//! no later answer can slip past. An address written in the URL itself was checked when the URL
//! was set (`check_callback_url`) and is connected to without resolving.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::store::users::is_link_local_or_metadata;

/// Looks a host name up; the system's resolver in the hub, a fixed table in tests (no test may
/// change the machine's DNS).
pub trait Lookup: Send + Sync + std::fmt::Debug + 'static {
    fn lookup(&self, host: String) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>>;
}

/// The system's resolver (getaddrinfo, on a blocking thread).
#[derive(Debug)]
pub struct System;

impl Lookup for System {
    fn lookup(&self, host: String) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>> {
        // The port is replaced by the URL's own when connecting.
        Box::pin(async move { Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.collect()) })
    }
}

/// A resolver that answers only addresses a callback may go to (any, if `allow_private`).
pub struct CallbackResolver {
    lookup: Arc<dyn Lookup>,
    allow_private: bool,
}

impl CallbackResolver {
    pub fn new(lookup: Arc<dyn Lookup>, allow_private: bool) -> Self {
        Self { lookup, allow_private }
    }
}

/// The answer's addresses a callback may go to, or why there are none.
pub fn allowed(host: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, String> {
    let found = addrs.len();
    let kept: Vec<SocketAddr> = addrs.into_iter().filter(|a| !is_link_local_or_metadata(a.ip())).collect();
    if kept.is_empty() && found > 0 {
        return Err(format!(
            "{host:?} resolves only to link-local or cloud metadata addresses; a callback is not sent there \
             (start the hub with --allow-private-callbacks to allow it)"
        ));
    }
    Ok(kept)
}

impl Resolve for CallbackResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let lookup = self.lookup.clone();
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs = lookup.lookup(host.clone()).await?;
            let kept = if allow_private { addrs } else { allowed(&host, addrs).map_err(std::io::Error::other)? };
            let addrs: Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        SocketAddr::new(text.parse().unwrap(), 0)
    }

    #[test]
    fn metadata_and_link_local_answers_are_dropped_and_the_rest_kept() {
        let mixed = vec![addr("169.254.169.254"), addr("10.1.2.3"), addr("fe80::1"), addr("fd00:ec2::254")];
        assert_eq!(allowed("erp.example", mixed).unwrap(), vec![addr("10.1.2.3")]);
        let only_metadata = vec![addr("169.254.169.254"), addr("::ffff:169.254.169.254")];
        let why = allowed("erp.example", only_metadata).unwrap_err();
        assert!(
            why.contains("\"erp.example\" resolves only to link-local") && why.contains("--allow-private-callbacks")
        );
        assert_eq!(allowed("erp.example", vec![addr("127.0.0.1")]).unwrap(), vec![addr("127.0.0.1")]);
    }
}
