//! `herald-ui`: Herald's windows — the inbox, the quick panel, settings. Thin by design: every
//! command is a call into `herald_client::window`; events from the agent are forwarded in one
//! place ([`events`]); windows open and close in [`windows`]. Started by the agent when a window
//! is needed (`HERALD_UI_OPEN` says which); ends a grace period after its last window went.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod events;
#[cfg(target_os = "linux")]
mod focus;
mod windows;

use std::sync::Arc;
use std::time::Duration;

use herald_client::ipc::OpenWindow;
use herald_client::window::opening::GRACE;
use herald_client::window::{AgentLink, InboxReader};
use herald_client::Config;
use tauri::webview::PageLoadEvent;
use tauri::RunEvent;

fn main() {
    herald_client::keep_files_private();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("HERALD_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let config = match Config::load() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("herald-ui: {e}");
            std::process::exit(2);
        }
    };
    // The toolkit panics deep in its event loop where there is no display: say why, and end
    // with the status that tells the agent not to start herald-ui again.
    if let Some(why) = herald_client::window::display::missing_display() {
        eprintln!("herald-ui: no display to open windows on: {why}. Herald's windows open inside a desktop session.");
        std::process::exit(herald_client::window::display::NO_DISPLAY_STATUS);
    }
    // What to open first: the agent says; run by hand, the inbox.
    let first = match std::env::var("HERALD_UI_OPEN") {
        Ok(json) => serde_json::from_str::<OpenWindow>(&json).unwrap_or_else(|e| {
            tracing::warn!(error = %e, json, "HERALD_UI_OPEN is not a window to open; opening the inbox");
            OpenWindow::Inbox { show: None }
        }),
        Err(_) => OpenWindow::Inbox { show: None },
    };
    // Tests shorten the grace period.
    let grace =
        std::env::var("HERALD_UI_GRACE_MS").ok().and_then(|ms| ms.parse().ok()).map_or(GRACE, Duration::from_millis);
    let link = Arc::new(AgentLink::new(config.socket_path()));
    let app = tauri::Builder::default()
        .manage(InboxReader::new(config.mirror_path()))
        .manage(link.clone())
        .manage(Arc::new(windows::Windows::new(grace)))
        // Its Rust side only: no capability grants the page the plugin's own commands, so links
        // open only through `open_link`, which checks them.
        .plugin(tauri_plugin_opener::init())
        .on_page_load(|webview, payload| {
            if payload.event() == PageLoadEvent::Finished {
                // Tests and support logs wait for this line.
                tracing::info!(window = webview.label(), "window ready");
            }
        })
        .on_window_event(windows::on_event)
        .invoke_handler(tauri::generate_handler![
            commands::search_notifications,
            commands::get_notification,
            commands::notification_types,
            commands::synced_at,
            commands::open_link,
            commands::take_open,
            commands::open_window,
            commands::dismiss,
            commands::act,
            commands::snooze_live,
            commands::ask,
            commands::agent_snapshot
        ])
        .setup(move |app| {
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move { link.run(|event| events::forward(&handle, event)).await });
            windows::open(app.handle(), first);
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("herald-ui failed to start");
    app.run(|_, event| {
        // The last window closed: stay for the grace period (`windows::on_event` ends it).
        if let RunEvent::ExitRequested { code: None, api, .. } = event {
            api.prevent_exit();
        }
    });
}
