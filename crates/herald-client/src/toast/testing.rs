//! What the toast tests share: a fixed now, quiet rules, a live event, buttons.

use herald_proto::{DoNotDisturb, LiveEvent};
use jiff::Timestamp;

use super::{Interruptions, Toast};

pub(super) fn now() -> Timestamp {
    "2026-11-21T10:00:00Z".parse().unwrap()
}

pub(super) fn do_not_disturb() -> Interruptions {
    let dnd = DoNotDisturb { quiet_hours: None, dnd_until: Some("2026-11-21T11:00:00.000Z".into()) };
    Interruptions { do_not_disturb: dnd, ..Interruptions::default() }
}

pub(super) fn live(kind: herald_proto::LiveKind) -> LiveEvent {
    LiveEvent {
        id: "e".into(),
        kind,
        title: "Call from <Ann>".into(),
        body: "+1 555".into(),
        actions: vec![],
        at: None,
        expires_at: "2999-01-01T00:00:00Z".into(),
    }
}

pub(super) fn button(value: &str, label: &str) -> herald_proto::Button {
    herald_proto::Button { value: value.into(), label: label.into(), style: Default::default() }
}

pub(super) fn keys(toast: &Toast) -> Vec<(&str, &str)> {
    toast.buttons.iter().map(|b| (b.key.as_str(), b.label.as_str())).collect()
}
