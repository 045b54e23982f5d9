//! Windows: toasts through WinRT's `ToastNotificationManager`, with the same face as the Linux
//! notification daemon (`notification_daemon.rs`), so `toasts` drives both alike.
//!
//! Each toast carries a tag (its id) in Herald's group: showing a toast under a tag already on
//! screen replaces it in place (a countdown, a tag-replaced notification), and a toast read
//! elsewhere is taken away by its tag. Clicks come back through the toast's `Activated` event:
//! the body's `launch` argument is "default", a button's argument is its key, as on Linux.
//! Text goes in through the XML DOM as text, never parsed as markup.
//!
//! Built here (`cargo check --target x86_64-pc-windows-gnu`), not run here: there is no Windows.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use herald_client::toast::Toast;
use tokio::sync::mpsc;

use crate::toasts::Signal;
use windows::core::{Interface, HSTRING};
use windows::Data::Xml::Dom::{XmlDocument, XmlElement};
use windows::Foundation::TypedEventHandler;
use windows::UI::Notifications::{
    ToastActivatedEventArgs, ToastDismissalReason, ToastDismissedEventArgs, ToastNotification, ToastNotificationManager,
};

/// The group every Herald toast is in, so its tags are Herald's own.
const GROUP: &str = "herald";
/// A desktop app's toasts are shown under an AppUserModelID that a Start-menu shortcut carries.
/// The installer sets `HERALD_APP_USER_MODEL_ID` to Herald's own; until then, PowerShell's, which
/// every Windows has (the toasts then say they come from PowerShell).
const FALLBACK_APP_ID: &str = r"{1AC14E77-02E7-4E5D-B744-2EB1AE5198B7}\WindowsPowerShell\v1.0\powershell.exe";

#[derive(Clone)]
pub struct NotificationDaemon {
    app_id: HSTRING,
    next_id: Arc<AtomicU32>,
    /// Each toast id's latest showing: a toast replaced in place may still report its own
    /// dismissal, which must not close the one that took its place.
    showings: Arc<Mutex<HashMap<u32, u64>>>,
    next_showing: Arc<AtomicU32>,
    signals: mpsc::UnboundedSender<Signal>,
}

pub struct Signals(mpsc::UnboundedReceiver<Signal>);

impl NotificationDaemon {
    pub async fn connect() -> windows::core::Result<(Self, Signals)> {
        let app_id = std::env::var("HERALD_APP_USER_MODEL_ID").unwrap_or_else(|_| FALLBACK_APP_ID.to_owned());
        let app_id = HSTRING::from(app_id);
        // Fails here, not at the first toast, where notifications are off for the app.
        ToastNotificationManager::CreateToastNotifierWithId(&app_id)?;
        let (signals, heard) = mpsc::unbounded_channel();
        let daemon = Self {
            app_id,
            next_id: Arc::new(AtomicU32::new(1)),
            showings: Arc::default(),
            next_showing: Arc::new(AtomicU32::new(1)),
            signals,
        };
        Ok((daemon, Signals(heard)))
    }

    /// Shows `toast` (in place of toast `replaces`, if given), with the system's sound or
    /// silently; returns its id.
    pub async fn show(&self, toast: &Toast, replaces: Option<u32>, sound: bool) -> windows::core::Result<u32> {
        let toast_id = replaces.unwrap_or_else(|| self.next_id.fetch_add(1, Ordering::Relaxed));
        let showing = u64::from(self.next_showing.fetch_add(1, Ordering::Relaxed));
        let notification = ToastNotification::CreateToastNotification(&toast_xml(toast, sound)?)?;
        notification.SetTag(&HSTRING::from(toast_id.to_string()))?;
        notification.SetGroup(&HSTRING::from(GROUP))?;

        let signals = self.signals.clone();
        notification.Activated(&TypedEventHandler::<ToastNotification, windows::core::IInspectable>::new(
            move |_, args| {
                let key = args
                    .as_ref()
                    .and_then(|args| args.cast::<ToastActivatedEventArgs>().ok())
                    .and_then(|args| args.Arguments().ok())
                    .map(|arguments| arguments.to_string())
                    .filter(|key| !key.is_empty())
                    .unwrap_or_else(|| "default".to_owned());
                let _ = signals.send(Signal::Clicked { toast_id, key });
                Ok(())
            },
        ))?;
        let (signals, showings) = (self.signals.clone(), self.showings.clone());
        notification.Dismissed(&TypedEventHandler::<ToastNotification, ToastDismissedEventArgs>::new(
            move |_, args| {
                // Timed out means moved to the Action Center, where it can still be clicked,
                // replaced and taken away: still shown, as far as Herald is concerned.
                let reason = args.as_ref().and_then(|args| args.Reason().ok());
                if reason == Some(ToastDismissalReason::TimedOut) {
                    return Ok(());
                }
                let latest = showings.lock().expect("showings lock").get(&toast_id) == Some(&showing);
                if latest {
                    let _ = signals.send(Signal::Closed { toast_id });
                }
                Ok(())
            },
        ))?;

        self.showings.lock().expect("showings lock").insert(toast_id, showing);
        ToastNotificationManager::CreateToastNotifierWithId(&self.app_id)?.Show(&notification)?;
        Ok(toast_id)
    }

    pub async fn close(&self, toast_id: u32) -> windows::core::Result<()> {
        self.showings.lock().expect("showings lock").remove(&toast_id);
        ToastNotificationManager::History()?.RemoveGroupedTagWithId(
            &HSTRING::from(toast_id.to_string()),
            &HSTRING::from(GROUP),
            &self.app_id,
        )?;
        // Removing a toast from the history raises no `Dismissed`; say it as the daemon would.
        let _ = self.signals.send(Signal::Closed { toast_id });
        Ok(())
    }
}

impl Signals {
    /// The next signal about a toast; None once the agent is shutting down.
    pub async fn next(&mut self) -> Option<Signal> {
        self.0.recv().await
    }
}

/// The toast's XML: `<toast launch="default" [scenario="reminder"]><visual><binding
/// template="ToastGeneric"><text>summary</text><text>body</text></binding></visual><actions>…
/// </actions>[<audio silent="true"/>]</toast>`. Calls, shutdown warnings and reminders stay
/// on screen until dismissed (the `reminder` scenario), as critical and resident toasts do on
/// Linux.
fn toast_xml(toast: &Toast, sound: bool) -> windows::core::Result<XmlDocument> {
    let doc = XmlDocument::new()?;
    let root = doc.CreateElement(&HSTRING::from("toast"))?;
    root.SetAttribute(&HSTRING::from("launch"), &HSTRING::from("default"))?;
    if toast.critical || toast.resident {
        root.SetAttribute(&HSTRING::from("scenario"), &HSTRING::from("reminder"))?;
    }
    let visual = doc.CreateElement(&HSTRING::from("visual"))?;
    let binding = doc.CreateElement(&HSTRING::from("binding"))?;
    binding.SetAttribute(&HSTRING::from("template"), &HSTRING::from("ToastGeneric"))?;
    for line in [&toast.summary, &toast.body] {
        let text = doc.CreateElement(&HSTRING::from("text"))?;
        text.SetInnerText(&HSTRING::from(line.as_str()))?;
        binding.AppendChild(&text)?;
    }
    visual.AppendChild(&binding)?;
    root.AppendChild(&visual)?;
    if !toast.buttons.is_empty() {
        let actions = doc.CreateElement(&HSTRING::from("actions"))?;
        for button in &toast.buttons {
            let action: XmlElement = doc.CreateElement(&HSTRING::from("action"))?;
            action.SetAttribute(&HSTRING::from("content"), &HSTRING::from(button.label.as_str()))?;
            action.SetAttribute(&HSTRING::from("arguments"), &HSTRING::from(button.key.as_str()))?;
            actions.AppendChild(&action)?;
        }
        root.AppendChild(&actions)?;
    }
    if !sound {
        let audio = doc.CreateElement(&HSTRING::from("audio"))?;
        audio.SetAttribute(&HSTRING::from("silent"), &HSTRING::from("true"))?;
        root.AppendChild(&audio)?;
    }
    doc.AppendChild(&root)?;
    Ok(doc)
}
