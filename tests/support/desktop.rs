//! A whole desktop for one test: a hub with bob and a sender (erp), a session bus with a
//! notification daemon, and bob's agent online with a window connected.

use herald_client::ipc::Event;
use herald_client::sync::ConnectionState;

use crate::agent::{Agent, AgentEnv, Window};
use crate::bus::SessionBus;
use crate::daemon::NotificationDaemon;
use crate::hub::Hub;

/// Fields drop in order: the agent before the hub, the bus, and last the directory they use.
pub struct Desktop {
    pub window: Window,
    pub agent: Agent,
    pub env: AgentEnv,
    pub daemon: NotificationDaemon,
    pub hub: Hub,
    pub bob: String,
    pub erp: String,
    pub bus: SessionBus,
    pub dir: tempfile::TempDir,
}

impl Desktop {
    pub async fn online() -> Self {
        Self::online_with(&[]).await
    }

    /// The same, with more environment for the agent (a test's shorter snooze, say).
    pub async fn online_with(extra_env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let bus = SessionBus::start(dir.path());
        let daemon = NotificationDaemon::start(&bus.address).await;
        let hub = Hub::start(&dir.path().join("hub"), "127.0.0.1:0");
        let bob = hub.add_user("bob");
        let erp = hub.add_app("erp");
        let mut env = AgentEnv::new(dir.path(), hub.url(), &bob, &bus.address);
        env.extra_env.extend(extra_env.iter().map(|(k, v)| ((*k).to_owned(), (*v).into())));
        let agent = Agent::start(&env).await;
        let mut window = agent.window().await;
        // Toasts are for news: what arrives before the first catch-up is history.
        window
            .wait_for("the agent to come online", |e| {
                matches!(e, Event::Connection { connection: ConnectionState::Online }).then_some(())
            })
            .await;
        Self { window, agent, env, daemon, hub, bob, erp, bus, dir }
    }
}
