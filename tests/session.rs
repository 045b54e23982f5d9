//! The agent belongs to its desktop session (issue 16): it ends when the session's bus or display
//! goes, its queued actions are sent by the next session's agent, a herald of another live
//! session says why it cannot start, one that does not answer is replaced, and herald-ui with
//! no display says so instead of panicking.

use std::time::{Duration, Instant};

use herald_client::ipc::Request;
use herald_e2e::agent::{online, unread, Agent, AgentEnv, Window};
use herald_e2e::bus::SessionBus;
use herald_e2e::daemon::NotificationDaemon;
use herald_e2e::display::Display;
use herald_e2e::hub::Hub;
use herald_e2e::logind::Logind;
use herald_e2e::tray::Tray;

/// "Within a few seconds", as the issue asks of an agent whose session ended.
const SESSION_END_PATIENCE: Duration = Duration::from_secs(5);

async fn come_online(window: &mut Window) {
    window.wait_for("the agent to come online", online).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_ends_with_its_session_bus_and_the_next_session_sends_what_it_queued() {
    let dir = tempfile::tempdir().unwrap();
    let first_bus = SessionBus::start(&dir.path().join("bus1"));
    let _first_daemon = NotificationDaemon::start(&first_bus.address).await;
    let hub = Hub::start(&dir.path().join("hub"), "127.0.0.1:0");
    let (bob, erp) = (hub.add_user("bob"), hub.add_app("erp"));
    let first = AgentEnv::new(dir.path(), hub.url(), &bob, &first_bus.address);
    let mut agent = Agent::start(&first).await;
    let mut window = agent.window().await;
    come_online(&mut window).await;
    let id = hub.send(&erp, "bob", "PO-7 needs your approval", "").await;
    window.wait_for("the notification", |e| unread(e).filter(|n| *n == 1)).await;

    // Offline, the user reads it: queued in the mirror's outbox.
    let (addr, data) = hub.stop();
    agent.wait_for_log("sync disconnected").await;
    window.send(Request::MarkRead { ids: vec![id], read: true }).await;
    window.wait_for("the read to be recorded", |e| unread(e).filter(|n| *n == 0)).await;

    // The session ends: its bus goes (logout, or dbus-run-session's end).
    let ended_at = Instant::now();
    drop(first_bus);
    let why = agent.log_within("the desktop session has ended", SESSION_END_PATIENCE).await;
    assert!(why.expect("the agent noticed its session end").contains("the session bus closed"));
    let status = agent.ends_within(SESSION_END_PATIENCE).await.expect("the agent exited with its session");
    assert!(status.success(), "{status}");
    eprintln!("session bus gone → agent exited in {:?}", ended_at.elapsed());

    // The next session, the same profile: its agent starts (the lock is free) and sends the read.
    let hub = Hub::start(&data, &addr.to_string());
    let second_bus = SessionBus::start(&dir.path().join("bus2"));
    let _second_daemon = NotificationDaemon::start(&second_bus.address).await;
    let second = AgentEnv { bus_address: second_bus.address.clone(), ..AgentEnv::new(dir.path(), hub.url(), &bob, "") };
    let mut next = Agent::start(&second).await;
    next.wait_for_log("outbox flushed").await;
    hub.wait_for_list(&bob, "the read, sent by the next session's agent", |list| {
        list.iter().any(|n| n["id"] == id && n["read"] == true)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_logout_and_login_the_new_session_has_its_own_tray_and_toasts() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::start(&dir.path().join("hub"), "127.0.0.1:0");
    let (bob, erp) = (hub.add_user("bob"), hub.add_app("erp"));

    // Session 1: a display and a bus. It ends with its display going (the X server of the login
    // ends); its bus stays, as systemd's per-user bus outlives one login.
    let first_display = Display::start();
    let first_bus = SessionBus::start(&dir.path().join("bus1"));
    let mut first_daemon = NotificationDaemon::start(&first_bus.address).await;
    let mut first = AgentEnv::new(dir.path(), hub.url(), &bob, &first_bus.address);
    first.extra_env.push(("DISPLAY".into(), first_display.name.clone().into()));
    let mut agent = Agent::start(&first).await;
    come_online(&mut agent.window().await).await;
    drop(first_display);
    let why = agent.log_within("the desktop session has ended", SESSION_END_PATIENCE).await;
    assert!(why.expect("the agent noticed its display go").contains("the X display"));
    assert!(agent.ends_within(SESSION_END_PATIENCE).await.is_some(), "the agent of session 1 exited");

    // Session 2 on a new bus and display, the same profile: its herald stays up.
    let second_display = Display::start();
    let second_bus = SessionBus::start(&dir.path().join("bus2"));
    let mut second_daemon = NotificationDaemon::start(&second_bus.address).await;
    let mut second = AgentEnv::new(dir.path(), hub.url(), &bob, &second_bus.address);
    second.extra_env.push(("DISPLAY".into(), second_display.name.clone().into()));
    let mut next = Agent::start(&second).await;
    come_online(&mut next.window().await).await;
    assert!(next.is_running(), "session 2's herald stays up");
    // Its tray is on session 2's bus.
    let tray = Tray::find(second_bus.connect().await, &second_bus.address, next.pid()).await;
    // A notification posted now toasts in session 2, and nowhere else, and its tray counts it.
    hub.send(&erp, "bob", "Contract signed", "Acme").await;
    assert_eq!(second_daemon.next_toast().await.summary, "Contract signed");
    tray.wait_for_tooltip("the tray to count it", |text| text.contains("1 unread notification")).await;
    assert!(first_daemon.pending_toast().is_none(), "nothing toasts in the ended session");
}

/// Logout on a system where logind leaves the user's processes running: the login session goes
/// "closing" while its bus and display may stay. logind is a stand-in here (see
/// `herald_e2e::logind`): the real one needs systemd as PID 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_ends_when_logind_says_its_login_session_is_closing() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::start(&dir.path().join("hub"), "127.0.0.1:0");
    let bob = hub.add_user("bob");
    let logind = Logind::start(&dir.path().join("system"), "c7").await;
    let bus = SessionBus::start(&dir.path().join("bus"));
    let mut env = AgentEnv::new(dir.path(), hub.url(), &bob, &bus.address);
    logind.place_in_session(&mut env);
    let mut agent = Agent::start(&env).await;
    come_online(&mut agent.window().await).await;

    logind.log_out().await;
    let why = agent.log_within("the desktop session has ended", SESSION_END_PATIENCE).await;
    assert!(why.expect("the agent heard its login session close").contains("the login session c7 is closing"));
    assert!(agent.ends_within(SESSION_END_PATIENCE).await.is_some(), "the agent exited with its login session");
}

/// An agent left running from an ended session (it missed the end) is asked by the next
/// session's herald, finds its session gone, and makes way: never handed to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_left_from_an_ended_session_makes_way_for_the_next_one() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::start(&dir.path().join("hub"), "127.0.0.1:0");
    let bob = hub.add_user("bob");
    let logind = Logind::start(&dir.path().join("system"), "c7").await;
    let first_bus = SessionBus::start(&dir.path().join("bus1"));
    let mut first = AgentEnv::new(dir.path(), hub.url(), &bob, &first_bus.address);
    logind.place_in_session(&mut first);
    let mut orphan = Agent::start(&first).await;
    come_online(&mut orphan.window().await).await;
    logind.close_silently().await;
    assert!(orphan.is_running(), "it has not noticed");

    let second_bus = SessionBus::start(&dir.path().join("bus2"));
    let mut second_daemon = NotificationDaemon::start(&second_bus.address).await;
    let mut second = AgentEnv::new(dir.path(), hub.url(), &bob, &second_bus.address);
    second.extra_env.push(("XDG_SESSION_ID".into(), "c8".into()));
    let next = Agent::start(&second).await;
    let why = orphan.log_within("the desktop session has ended", SESSION_END_PATIENCE).await;
    assert!(why.expect("the orphan found its session gone").contains("the session is gone"));
    assert!(orphan.ends_within(SESSION_END_PATIENCE).await.is_some(), "the orphan made way");
    come_online(&mut next.window().await).await;
    let erp = hub.add_app("erp");
    hub.send(&erp, "bob", "Welcome back", "").await;
    assert_eq!(second_daemon.next_toast().await.summary, "Welcome back", "the new session has the toasts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_herald_of_another_live_session_says_why_it_cannot_start_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::start(&dir.path().join("hub"), "127.0.0.1:0");
    let bob = hub.add_user("bob");
    let local_bus = SessionBus::start(&dir.path().join("bus1"));
    let _local_daemon = NotificationDaemon::start(&local_bus.address).await;
    let local = AgentEnv::new(dir.path(), hub.url(), &bob, &local_bus.address);
    let mut agent = Agent::start(&local).await;
    let mut window = agent.window().await;
    come_online(&mut window).await;

    // A remote desktop of the same user, at the same time, with the same profile.
    let remote_bus = SessionBus::start(&dir.path().join("bus2"));
    let mut remote_daemon = NotificationDaemon::start(&remote_bus.address).await;
    let remote = AgentEnv { bus_address: remote_bus.address.clone(), ..AgentEnv::new(dir.path(), hub.url(), &bob, "") };
    let output = remote.command().output().unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "it does not pretend to run: {said}");
    assert!(said.contains("already running for this profile in another session"), "{said}");
    assert!(said.contains(&format!("pid {}", agent.pid())), "{said}");
    assert!(said.contains("HERALD_DATA_DIR"), "it says what to do: {said}");
    // Started at login it has no terminal: the remote session is told in a toast as well.
    assert_eq!(remote_daemon.next_toast().await.summary, "Herald did not start here");
    // The local session's agent was not disturbed.
    assert!(agent.is_running());
    window.send(Request::OpenInbox).await;
    agent.wait_for_log("opening a window").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_that_does_not_answer_is_ended_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::start(&dir.path().join("hub"), "127.0.0.1:0");
    let bob = hub.add_user("bob");
    let bus = SessionBus::start(dir.path());
    let _daemon = NotificationDaemon::start(&bus.address).await;
    let env = AgentEnv::new(dir.path(), hub.url(), &bob, &bus.address);
    let mut hung = Agent::start(&env).await;
    come_online(&mut hung.window().await).await;
    // Hung: it holds the profile's lock but answers nothing.
    let stopped = std::process::Command::new("kill").args(["-STOP", &hung.pid().to_string()]).status().unwrap();
    assert!(stopped.success());

    // Started means it holds the profile now (it says so only once it has the lock).
    let next = Agent::start(&env).await;
    come_online(&mut next.window().await).await;
    assert!(!hung.is_running(), "the hung agent was ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn herald_ui_without_a_display_says_so_and_the_agent_stops_starting_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(herald_e2e::binary("herald-ui"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HERALD_DATA_DIR", dir.path().join("profile"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(herald_client::window::display::NO_DISPLAY_STATUS), "{said}");
    assert!(said.contains("no display to open windows on"), "{said}");
    assert!(!said.contains("panicked"), "{said}");

    // The agent (with no display either) starts it once, hears why it ended, and not again.
    let hub = Hub::start(&dir.path().join("hub"), "127.0.0.1:0");
    let bob = hub.add_user("bob");
    let bus = SessionBus::start(dir.path());
    let env = AgentEnv::new(dir.path(), hub.url(), &bob, &bus.address);
    let mut agent = Agent::start(&env).await;
    let mut window = agent.window().await;
    window.send(Request::OpenInbox).await;
    agent.wait_for_log("opening a window: started the UI").await;
    agent.wait_for_log("herald-ui found no display").await;
    window.send(Request::OpenInbox).await;
    let refused = agent.wait_for_log("no window").await;
    assert!(refused.contains("herald-ui cannot open one here"), "not started again: {refused}");
}
