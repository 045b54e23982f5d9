//! Windows: the logon session. A hidden top-level window of the agent's own hears the system
//! end the session (`WM_ENDSESSION`) and, registered with WTS, this session log off
//! (`WM_WTSSESSION_CHANGE` / `WTS_SESSION_LOGOFF`). On `WM_ENDSESSION` Windows ends the process
//! as soon as the window procedure returns, so it waits (a few seconds at most) for the agent to
//! have stopped: the outbox and the cursor are in the mirror by then.
//!
//! Tested under Wine (`tests/windows_agent.rs`: `wineboot --end-session` sends WM_ENDSESSION).
//!
//! The workspace denies `unsafe`; a window procedure and the Win32 calls that make its window
//! have no safe form, so this module allows it, each block with its reason.
#![allow(unsafe_code)]

use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use herald_client::session::SessionId;
use windows::core::w;
use windows::Win32::Foundation::{HWND, LPARAM, LRESULT, WPARAM};
use windows::Win32::System::LibraryLoader::GetModuleHandleW;
use windows::Win32::System::RemoteDesktop::{
    ProcessIdToSessionId, WTSRegisterSessionNotification, NOTIFY_FOR_THIS_SESSION,
};
use windows::Win32::System::Threading::GetCurrentProcessId;
use windows::Win32::UI::WindowsAndMessaging::{
    CreateWindowExW, DefWindowProcW, DispatchMessageW, GetMessageW, RegisterClassW, TranslateMessage, MSG,
    WINDOW_EX_STYLE, WM_ENDSESSION, WM_QUERYENDSESSION, WM_WTSSESSION_CHANGE, WNDCLASSW, WS_OVERLAPPED,
};

use super::Ending;

/// `WM_WTSSESSION_CHANGE`'s wParam when this session logs off.
const WTS_SESSION_LOGOFF: usize = 0x6;
/// How long `WM_ENDSESSION` holds the process for the agent to stop.
const STOP_PATIENCE: Duration = Duration::from_secs(5);

/// How the window procedure ends the session.
static ENDING: OnceLock<Ending> = OnceLock::new();
/// Whether the agent has stopped (see [`stopped`]); every thread holding Windows waits on it.
static STOPPED: (Mutex<bool>, Condvar) = (Mutex::new(false), Condvar::new());

pub struct Watch;

pub async fn watch(id: &mut SessionId, end: Ending) -> Watch {
    let mut session = 0u32;
    // SAFETY: plain out-parameter call on this process's id.
    if unsafe { ProcessIdToSessionId(GetCurrentProcessId(), &mut session) }.is_ok() {
        id.login = Some(session.to_string());
    }
    let _ = ENDING.set(end);
    Watch
}

/// Starts the hidden window that hears the session end. Only once this process is the agent:
/// a `herald.exe` that hands over and exits makes none (one run under Wine exited non-zero,
/// with no message, while its window thread was still starting).
pub fn listen() {
    if let Err(e) = std::thread::Builder::new().name("session-watch".into()).spawn(run_window) {
        tracing::warn!(error = %e, "cannot watch the logon session");
    }
}

impl Watch {
    pub async fn alive(&self) -> bool {
        // A process of an ended logon session does not go on running on Windows.
        true
    }
}

/// The agent has stopped: a `WM_ENDSESSION` waiting for it may let Windows end the process.
pub fn stopped() {
    let (done, changed) = &STOPPED;
    *done.lock().unwrap_or_else(|p| p.into_inner()) = true;
    changed.notify_all();
}

fn run_window() {
    // SAFETY: a window class and a hidden window of this thread's, with a static procedure; the
    // message loop runs on the thread that made the window, as Windows requires.
    unsafe {
        let Ok(instance) = GetModuleHandleW(None) else { return };
        let class = WNDCLASSW {
            lpfnWndProc: Some(procedure),
            hInstance: instance.into(),
            lpszClassName: w!("HeraldSessionWatch"),
            ..Default::default()
        };
        if RegisterClassW(&class) == 0 {
            tracing::warn!("cannot register the session window's class");
            return;
        }
        // Top-level (not message-only): only top-level windows are sent WM_ENDSESSION.
        let window = match CreateWindowExW(
            WINDOW_EX_STYLE::default(),
            w!("HeraldSessionWatch"),
            w!("Herald session"),
            WS_OVERLAPPED,
            0,
            0,
            0,
            0,
            None,
            None,
            Some(instance.into()),
            None,
        ) {
            Ok(window) => window,
            Err(e) => {
                tracing::warn!(error = %e, "cannot make the session window");
                return;
            }
        };
        if let Err(e) = WTSRegisterSessionNotification(window, NOTIFY_FOR_THIS_SESSION) {
            tracing::warn!(error = %e, "not told of logoffs (WTS); the end of the session is still heard");
        }
        let mut message = MSG::default();
        while GetMessageW(&mut message, None, 0, 0).as_bool() {
            let _ = TranslateMessage(&message);
            DispatchMessageW(&message);
        }
    }
}

unsafe extern "system" fn procedure(window: HWND, message: u32, wparam: WPARAM, lparam: LPARAM) -> LRESULT {
    match message {
        // Yes, the session may end: nothing here needs the user to decide.
        WM_QUERYENDSESSION => LRESULT(1),
        WM_ENDSESSION if wparam.0 != 0 => {
            end_and_wait("Windows is ending the logon session");
            LRESULT(0)
        }
        WM_WTSSESSION_CHANGE if wparam.0 == WTS_SESSION_LOGOFF => {
            end_and_wait("the logon session is logging off");
            LRESULT(0)
        }
        // SAFETY: the default handling of a message this window does not take.
        _ => unsafe { DefWindowProcW(window, message, wparam, lparam) },
    }
}

/// Ends the session for the agent, then holds this thread (so the process) until it stopped.
/// Called from each window that hears the end: this module's, and the tray's, whose event loop
/// (tao) ends the process as soon as its own `WM_ENDSESSION` returns.
pub fn end_and_wait(reason: &str) {
    if let Some(end) = ENDING.get() {
        end.end(reason);
    }
    let (done, changed) = &STOPPED;
    let done = done.lock().unwrap_or_else(|p| p.into_inner());
    let _ = changed.wait_timeout_while(done, STOP_PATIENCE, |done| !*done);
}
