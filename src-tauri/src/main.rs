//! `herald-ui`: Herald's windows. Thin by design — every command is one call into
//! `herald_client::window`; events from the agent are forwarded in one place ([`events`]).
//! Started by the agent when a window is needed; exits when its last window closes.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod events;

use std::sync::Arc;

use herald_client::window::{AgentLink, InboxReader};
use herald_client::Config;
use tauri::webview::PageLoadEvent;
use tauri::Manager;

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("HERALD_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let config = match Config::load() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("herald-ui: {e}");
            std::process::exit(2);
        }
    };
    let link = Arc::new(AgentLink::new(config.socket_path()));
    let show = std::env::var("HERALD_UI_SHOW").ok().and_then(|id| id.parse::<i64>().ok());
    tauri::Builder::default()
        .manage(InboxReader::new(config.mirror_path()))
        .manage(link.clone())
        .manage(commands::InitialShow(std::sync::Mutex::new(show)))
        .on_page_load(|webview, payload| {
            if payload.event() == PageLoadEvent::Finished {
                // Tests and support logs wait for this line.
                tracing::info!(window = webview.label(), "window ready");
            }
        })
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::CloseRequested { .. } | tauri::WindowEvent::Destroyed = event {
                tracing::info!(window = window.label(), ?event, "window closing");
            }
        })
        // Its Rust side only: no capability grants the page the plugin's own commands, so links
        // open only through `open_link`, which checks them.
        .plugin(tauri_plugin_opener::init())
        .invoke_handler(tauri::generate_handler![
            commands::search_notifications,
            commands::get_notification,
            commands::notification_types,
            commands::synced_at,
            commands::open_link,
            commands::take_initial_show,
            commands::act,
            commands::agent_snapshot
        ])
        .setup(move |app| {
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move { link.run(|event| events::forward(&handle, event)).await });
            if let Some(window) = app.get_webview_window("inbox") {
                let _ = window.set_focus();
            }
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("herald-ui failed to start");
}
