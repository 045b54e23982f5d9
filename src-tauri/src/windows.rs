//! herald-ui's windows: built when first asked for, brought forward after. The quick panel is
//! hidden, not closed, when dismissed, so it shows again at once; the process ends a grace
//! period after the last window went (`herald_client::window::opening`).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use herald_client::ipc::OpenWindow;
use herald_client::window::opening::{panel_position, Area, Lingering, PendingOpens};
use herald_client::window::AgentLink;
use tauri::{AppHandle, Manager, PhysicalPosition, WebviewUrl, WebviewWindow, WebviewWindowBuilder, WindowEvent};

/// The quick panel's size, in logical pixels.
const PANEL: (f64, f64) = (380.0, 520.0);

pub struct Windows {
    pub pending: PendingOpens,
    pub lingering: Lingering,
    pub grace: Duration,
    /// The panel has had the focus since it was shown: only then does losing it dismiss the
    /// panel (a desktop may report a focus-out before the first focus-in).
    pub panel_focused: std::sync::atomic::AtomicBool,
}

impl Windows {
    pub fn new(grace: Duration) -> Self {
        Self {
            pending: PendingOpens::default(),
            lingering: Lingering::default(),
            grace,
            panel_focused: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

/// Opens the window `request` names (or brings it forward), and leaves the request for its page.
pub fn open(app: &AppHandle, request: OpenWindow) {
    let windows = app.state::<Arc<Windows>>();
    let label = request.label();
    windows.pending.put(request.clone());
    let window = match app.get_webview_window(label) {
        Some(window) => window,
        None => match build(app, &request) {
            Ok(window) => window,
            Err(e) => {
                tracing::error!(error = %e, label, "cannot open a window");
                return;
            }
        },
    };
    if let OpenWindow::Panel { at, .. } = request {
        place_panel(&window, at);
        windows.panel_focused.store(false, Ordering::Relaxed);
    }
    let _ = window.unminimize();
    let _ = window.show();
    let _ = window.set_focus();
    // A tray click carries no user time, so a window manager that prevents focus stealing
    // would show the panel without the focus (Esc and hide-on-blur would not work).
    #[cfg(target_os = "linux")]
    if label == "panel" {
        crate::focus::take(&window);
    }
    windows.lingering.shown(label);
    // Tests and support logs wait for this line; a new window also logs "window ready" once its
    // page has loaded.
    tracing::info!(window = label, "window shown");
}

fn build(app: &AppHandle, request: &OpenWindow) -> tauri::Result<WebviewWindow> {
    let label = request.label();
    let url = WebviewUrl::App(format!("index.html?window={label}").into());
    let builder = WebviewWindowBuilder::new(app, label, url);
    let builder = match request {
        OpenWindow::Inbox { .. } => {
            builder.title("Herald — Inbox").inner_size(880.0, 640.0).min_inner_size(340.0, 360.0)
        }
        OpenWindow::Panel { .. } => builder
            .title("Herald")
            .inner_size(PANEL.0, PANEL.1)
            .resizable(false)
            .decorations(false)
            .always_on_top(true)
            .skip_taskbar(true)
            // Positioned before it is first shown.
            .visible(false),
        OpenWindow::Settings => {
            builder.title("Herald — Settings").inner_size(620.0, 640.0).min_inner_size(420.0, 400.0)
        }
    };
    builder.build()
}

/// By the tray (or the top-right corner), whole on the screen the tray is on.
fn place_panel(window: &WebviewWindow, at: Option<(i32, i32)>) {
    let monitor = match at {
        Some((x, y)) => window.monitor_from_point(f64::from(x), f64::from(y)).ok().flatten(),
        None => None,
    }
    .or_else(|| window.primary_monitor().ok().flatten());
    let Some(monitor) = monitor else { return };
    let scale = monitor.scale_factor();
    let area = monitor.work_area();
    let screen = Area { x: area.position.x, y: area.position.y, width: area.size.width, height: area.size.height };
    let size = ((PANEL.0 * scale) as u32, (PANEL.1 * scale) as u32);
    let (x, y) = panel_position(at, size, screen);
    let _ = window.set_position(PhysicalPosition::new(x, y));
}

/// A window's events: the panel hides instead of closing (and when it loses the focus, as a
/// popup does); the last window gone starts the grace period.
pub fn on_event(window: &tauri::Window, event: &WindowEvent) {
    let label = window.label();
    match event {
        WindowEvent::CloseRequested { api, .. } if label == "panel" => {
            api.prevent_close();
            dismiss(window);
        }
        WindowEvent::Focused(true) if label == "panel" => {
            window.app_handle().state::<Arc<Windows>>().panel_focused.store(true, Ordering::Relaxed);
            // Tests wait for this line before they move the focus away.
            tracing::info!(window = label, "window focused");
        }
        WindowEvent::Focused(false) if label == "panel" => {
            let had_focus = window.app_handle().state::<Arc<Windows>>().panel_focused.swap(false, Ordering::Relaxed);
            if had_focus && window.is_visible().unwrap_or(false) {
                dismiss(window);
            }
        }
        WindowEvent::Destroyed => {
            tracing::info!(window = label, "window closed");
            gone(window.app_handle(), label);
        }
        _ => {}
    }
}

/// Hides a window (the panel: Esc, a click elsewhere, the close button).
pub fn dismiss(window: &tauri::Window) {
    let _ = window.hide();
    tracing::info!(window = window.label(), "window hidden");
    gone(window.app_handle(), window.label());
}

fn gone(app: &AppHandle, label: &str) {
    let windows = app.state::<Arc<Windows>>().inner().clone();
    let Some(ticket) = windows.lingering.gone(label) else { return };
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(windows.grace).await;
        if !windows.lingering.may_end(ticket) {
            return;
        }
        // The agent first lets this process go and passes on what it asked before: a window
        // asked for in that moment opens here (and this process stays), and one asked for after
        // starts a new herald-ui. Without this, a tray click as the grace ran out was lost.
        let link = app.state::<Arc<AgentLink>>().inner().clone();
        link.leave().await;
        if windows.lingering.may_end(ticket) {
            tracing::info!(grace = ?windows.grace, "no window for the grace period: exiting");
            app.exit(0);
        } else {
            link.rejoin().await;
        }
    });
}
