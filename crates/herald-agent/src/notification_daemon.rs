//! The desktop's notification daemon (`org.freedesktop.Notifications`) on one session-bus
//! connection: toasts are shown and closed on it, and its clicks and closes are heard on it.
//! One connection because daemons such as dunst and GNOME's notification-daemon send
//! `ActionInvoked` and `NotificationClosed` only to the connection that showed the toast.

use std::collections::HashMap;

use futures_util::StreamExt;
use herald_client::toast::{escape_markup, Toast};
use zbus::zvariant::Value;

use crate::toasts::Signal;

const NAME: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";

#[derive(Clone)]
pub struct NotificationDaemon {
    bus: zbus::Connection,
}

/// The daemon's signals about toasts, from the daemon only.
pub struct Signals {
    stream: zbus::MessageStream,
    dbus: zbus::fdo::DBusProxy<'static>,
}

impl NotificationDaemon {
    /// Connects and subscribes to the daemon's signals before anything is shown, so no click can
    /// come before the agent listens.
    pub async fn connect() -> zbus::Result<(Self, Signals)> {
        let bus = zbus::Connection::session().await?;
        let rule =
            zbus::MatchRule::builder().msg_type(zbus::message::Type::Signal).interface(NAME)?.path(PATH)?.build();
        let stream = zbus::MessageStream::for_match_rule(rule, &bus, None).await?;
        let dbus = zbus::fdo::DBusProxy::new(&bus).await?;
        Ok((Self { bus }, Signals { stream, dbus }))
    }

    /// Shows `toast` (in place of toast `replaces`, if given), with the desktop's message sound
    /// or silently; returns its id.
    pub async fn show(&self, toast: &Toast, replaces: Option<u32>, sound: bool) -> zbus::Result<u32> {
        let mut actions = vec!["default", "Open inbox"];
        for button in &toast.buttons {
            actions.extend([button.key.as_str(), button.label.as_str()]);
        }
        let mut hints: HashMap<&str, Value<'_>> = HashMap::new();
        hints.insert("category", Value::from("im.received"));
        // Freedesktop urgency: 1 normal, 2 critical.
        hints.insert("urgency", Value::U8(if toast.critical { 2 } else { 1 }));
        if toast.resident {
            hints.insert("resident", Value::Bool(true));
        }
        if sound {
            hints.insert("sound-name", Value::from("message-new-instant"));
        } else {
            hints.insert("suppress-sound", Value::Bool(true));
        }
        let reply = self
            .bus
            .call_method(
                Some(NAME),
                PATH,
                Some(NAME),
                "Notify",
                &(
                    "Herald",
                    replaces.unwrap_or(0),
                    "mail-unread",
                    &toast.summary,
                    // Daemons that advertise `body-markup` read tags in the body: the text is untrusted.
                    escape_markup(&toast.body),
                    actions,
                    hints,
                    -1_i32,
                ),
            )
            .await?;
        reply.body().deserialize::<u32>()
    }

    pub async fn close(&self, toast_id: u32) -> zbus::Result<()> {
        self.bus.call_method(Some(NAME), PATH, Some(NAME), "CloseNotification", &(toast_id,)).await?;
        Ok(())
    }
}

impl Signals {
    /// The next signal about a toast; None once the bus is gone. A signal from anyone but the
    /// daemon (any program on the session bus can emit one) is ignored: it could "press" a
    /// button for the user.
    pub async fn next(&mut self) -> Option<Signal> {
        while let Some(message) = self.stream.next().await {
            let Ok(message) = message else { continue };
            let header = message.header();
            let daemon = self.dbus.get_name_owner(NAME.try_into().expect("a valid bus name")).await.ok();
            if header.sender().map(|s| s.as_str()) != daemon.as_ref().map(|d| d.as_str()) {
                tracing::warn!(sender = ?header.sender(), "ignored a toast signal not from the notification daemon");
                continue;
            }
            let body = message.body();
            let signal = match header.member().map(|m| m.as_str()) {
                Some("ActionInvoked") => {
                    body.deserialize::<(u32, String)>().ok().map(|(toast_id, key)| Signal::Clicked { toast_id, key })
                }
                Some("NotificationClosed") => {
                    body.deserialize::<(u32, u32)>().ok().map(|(toast_id, _reason)| Signal::Closed { toast_id })
                }
                _ => None,
            };
            if let Some(signal) = signal {
                return Some(signal);
            }
        }
        None
    }
}
