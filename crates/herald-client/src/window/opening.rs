//! How herald-ui opens and closes its windows, kept out of the Tauri shell: what each new window
//! was opened for, where the quick panel goes, and when the process may end.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use crate::ipc::OpenWindow;

/// How long herald-ui stays after its last window closed, so reopening the quick panel (or the
/// inbox) is a show, not a new process. Measured here (BENCHMARKS.md, "Windows"): a show of the
/// hidden panel takes a few milliseconds, a new process with its webview about half a second;
/// the price is the process's memory for this long after the last window closes.
pub const GRACE: Duration = Duration::from_secs(30);

/// The latest request for each window, until its page takes it. A window opened for a request
/// takes it when its page loads; an open one takes it when told.
#[derive(Default)]
pub struct PendingOpens(Mutex<HashMap<&'static str, OpenWindow>>);

impl PendingOpens {
    pub fn put(&self, request: OpenWindow) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(request.label(), request);
    }

    /// What window `label` was last asked to open at, once.
    pub fn take(&self, label: &str) -> Option<OpenWindow> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(label)
    }
}

/// Which windows are on screen, and whether none has been since a given moment: herald-ui ends
/// [`GRACE`] after its last window went, unless one came back meanwhile.
#[derive(Default)]
pub struct Lingering {
    inner: Mutex<Shown>,
}

#[derive(Default)]
struct Shown {
    visible: HashSet<String>,
    /// Bumped whenever a window shows: a countdown started before it is void.
    epoch: u64,
}

impl Lingering {
    pub fn shown(&self, label: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.visible.insert(label.to_owned());
        inner.epoch += 1;
    }

    /// Window `label` was hidden or closed. If it was the last one, the ticket to hand to
    /// [`Self::may_end`] after the grace period.
    pub fn gone(&self, label: &str) -> Option<u64> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.visible.remove(label);
        inner.visible.is_empty().then_some(inner.epoch)
    }

    /// Whether no window has shown since `ticket` was given.
    pub fn may_end(&self, ticket: u64) -> bool {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.epoch == ticket && inner.visible.is_empty()
    }
}

/// A rectangle on screen, in physical pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Area {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
}

/// Gap between the panel and the screen's edge (or the tray).
const MARGIN: i32 = 8;

/// Where the quick panel's top-left corner goes: by the tray icon that was clicked (`click`),
/// below it when the tray is in the screen's top half, above it otherwise, and always whole on
/// `screen`. With no click position (a toast's Reply, or a desktop that does not say), the
/// screen's top-right corner, where most trays are.
pub fn panel_position(click: Option<(i32, i32)>, panel: (u32, u32), screen: Area) -> (i32, i32) {
    let (width, height) = (panel.0 as i32, panel.1 as i32);
    let left = screen.x + MARGIN;
    let top = screen.y + MARGIN;
    let right = screen.x + screen.width as i32 - MARGIN - width;
    let bottom = screen.y + screen.height as i32 - MARGIN - height;
    let (x, y) = match click {
        // 0,0 is what some desktops send when they do not know.
        Some((cx, cy)) if (cx, cy) != (0, 0) => {
            let below = cy < screen.y + screen.height as i32 / 2;
            (cx - width / 2, if below { cy + MARGIN } else { cy - MARGIN - height })
        }
        _ => (right, top),
    };
    (x.min(right).max(left), y.min(bottom).max(top))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCREEN: Area = Area { x: 0, y: 0, width: 1920, height: 1080 };
    const PANEL: (u32, u32) = (380, 520);

    #[test]
    fn the_panel_opens_by_the_tray_and_stays_on_screen() {
        // A top bar's tray, right side: below the click, pulled in from the right edge.
        assert_eq!(panel_position(Some((1900, 12)), PANEL, SCREEN), (1920 - 8 - 380, 20));
        // A bottom panel's tray, in the middle: above the click, centred on it.
        assert_eq!(panel_position(Some((960, 1070)), PANEL, SCREEN), (960 - 190, 1070 - 8 - 520));
        // No position: the top-right corner.
        assert_eq!(panel_position(None, PANEL, SCREEN), (1920 - 8 - 380, 8));
        assert_eq!(panel_position(Some((0, 0)), PANEL, SCREEN), (1920 - 8 - 380, 8));
        // A second monitor to the right.
        let right = Area { x: 1920, y: 0, width: 1280, height: 1024 };
        assert_eq!(panel_position(Some((1925, 5)), PANEL, right), (1920 + 8, 13));
        // A screen smaller than the panel: its top-left corner at least is on it.
        let tiny = Area { x: 0, y: 0, width: 300, height: 400 };
        assert_eq!(panel_position(Some((150, 10)), PANEL, tiny), (8, 8));
    }

    #[test]
    fn the_last_window_gone_starts_a_countdown_that_a_new_one_voids() {
        let lingering = Lingering::default();
        lingering.shown("inbox");
        lingering.shown("panel");
        assert_eq!(lingering.gone("panel"), None, "the inbox is still open");
        let ticket = lingering.gone("inbox").expect("the last one went");
        assert!(lingering.may_end(ticket));
        lingering.shown("panel");
        assert!(!lingering.may_end(ticket), "the panel came back within the grace period");
        let later = lingering.gone("panel").unwrap();
        assert!(!lingering.may_end(ticket) && lingering.may_end(later));
    }

    #[test]
    fn a_window_takes_the_latest_request_for_it_once() {
        let pending = PendingOpens::default();
        pending.put(OpenWindow::Inbox { show: Some(1) });
        pending.put(OpenWindow::Inbox { show: Some(2) });
        pending.put(OpenWindow::Settings);
        assert_eq!(pending.take("inbox"), Some(OpenWindow::Inbox { show: Some(2) }));
        assert_eq!(pending.take("inbox"), None);
        assert_eq!(pending.take("settings"), Some(OpenWindow::Settings));
    }
}
