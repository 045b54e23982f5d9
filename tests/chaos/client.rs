//! `herald-chaos-client`: a headless Herald client for the chaos test — herald-client's sync
//! engine, mirror and outbox, as the agent runs them, with no tray, toasts or windows. It syncs
//! the account of `HERALD_SERVER` / `HERALD_TOKEN` into `HERALD_DATA_DIR/mirror.sqlite3` and
//! takes a user's actions on stdin, one per line, answering each on stdout:
//!
//! - `read` / `delete` / `answer P` / `confirm P`: act on a notification of the mirror picked at
//!   random (a plain one to read or delete; one awaiting a text reply or a button to answer or
//!   confirm, with an id whose remainder by 2 is P, so two clients of one user never answer the
//!   same one). The answer, `ok <action> <hub id> <subject>`, comes only once the action is committed to
//!   the outbox: the action has been acknowledged to the user and must never be lost. `none`
//!   when nothing fits.
//!
//! Refusals from the hub are appended to `HERALD_DATA_DIR/rejected.log`; there should be none.

use std::io::Write;

use herald_client::mirror::{ids, Mirror, SharedMirror};
use herald_client::outbox::Action;
use herald_client::sync::{SyncEngine, SyncEvent};
use herald_proto::Notification;
use tokio::io::AsyncBufReadExt;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is required"));
    let data_dir = std::path::PathBuf::from(var("HERALD_DATA_DIR"));
    let mirror = SharedMirror::new(Mirror::open(&data_dir.join("mirror.sqlite3")).expect("the mirror opens"));
    let (events_tx, mut events) = tokio::sync::broadcast::channel(4096);
    let engine = SyncEngine::new(
        Some(var("HERALD_SERVER").parse().unwrap()),
        Some(var("HERALD_TOKEN")),
        mirror.clone(),
        events_tx,
    );
    let outbox_ready = engine.outbox_ready();
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(engine.run(stopped));

    let rejected = data_dir.join("rejected.log");
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(SyncEvent::ActionRejected { action, error }) => {
                    let mut log = std::fs::OpenOptions::new().create(true).append(true).open(&rejected).unwrap();
                    writeln!(log, "{action:?}: {error}").unwrap();
                    log.sync_all().unwrap();
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });

    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let mut words = line.split_whitespace();
        let verb = words.next().unwrap_or_default().to_owned();
        let parity: Option<i64> = words.next().and_then(|p| p.parse().ok());
        let inbox = mirror.call(|m| m.list(None, 10_000)).await.expect("the mirror reads");
        let answer = match pick(&verb, parity, &inbox) {
            Some((id, action)) => {
                mirror.call(move |m| m.record_action(&action)).await.expect("the action is recorded");
                outbox_ready.notify_one();
                let subject = inbox.iter().find(|n| n.id == id).map(|n| n.subject.as_str()).unwrap_or_default();
                format!("ok {verb} {} {subject}", ids::hub(id))
            }
            None => "none".to_owned(),
        };
        println!("{answer}");
    }
}

/// The notification `verb` acts on, picked at random among those it fits, and the action.
fn pick(verb: &str, parity: Option<i64>, inbox: &[Notification]) -> Option<(i64, Action)> {
    let plain = |n: &&Notification| n.buttons.is_empty() && n.reply.is_none();
    let mine = |n: &&Notification| parity.is_none_or(|p| ids::hub(n.id).rem_euclid(2) == p);
    let unanswered = |n: &&Notification| n.answer.is_none();
    let candidates: Vec<&Notification> = match verb {
        "read" => inbox.iter().filter(plain).filter(|n| !n.read).collect(),
        "delete" => inbox.iter().filter(plain).collect(),
        "answer" => {
            inbox.iter().filter(|n| n.reply.is_some() && n.buttons.is_empty()).filter(unanswered).filter(mine).collect()
        }
        "confirm" => inbox.iter().filter(|n| !n.buttons.is_empty()).filter(unanswered).filter(mine).collect(),
        _ => return None,
    };
    let chosen = candidates.get(rand::random_range(0..candidates.len().max(1)))?;
    let id = chosen.id;
    let action = match verb {
        "read" => Action::MarkRead { ids: vec![id], read: true },
        "delete" => Action::Delete { ids: vec![id] },
        "answer" => Action::Answer { id, text: format!("answer to {}", ids::hub(id)) },
        _ => Action::Confirm { id, value: "Y".into() },
    };
    Some((id, action))
}
