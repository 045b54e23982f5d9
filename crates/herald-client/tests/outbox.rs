//! The outbox against a real hub: every kind of user action shows in the mirror at once, reaches
//! the hub once (even when its first answer was lost), survives a restart, and is taken back
//! locally when the hub refuses it.

use herald_client::mirror::Mirror;
use herald_client::outbox::{self, Action};
use herald_hub::store::NewNotification;
use herald_hub::Store;
use herald_proto::{Button, ButtonStyle, ErrorCode, Reply};

struct Setup {
    store: Store,
    base: url::Url,
    token: String,
    bob: i64,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn hub() -> Setup {
    let store = Store::open_in_memory().unwrap();
    let (bob, token) = store.add_user("bob").await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap()).parse().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(herald_hub::run(listener, store.clone(), async move {
        let _ = stopped.await;
    }));
    Setup { store, base, token, bob: bob.id, _stop: stop }
}

impl Setup {
    fn hub(&self) -> outbox::Hub {
        outbox::Hub { account: 1, server: self.base.clone(), token: self.token.clone() }
    }

    async fn send(&self, new: NewNotification) -> i64 {
        self.store.deliver(vec![self.bob], new).await.unwrap()[0].id
    }

    /// Brings the mirror up to date with the hub, as a catch-up would.
    async fn sync(&self, mirror: &herald_client::mirror::SharedMirror) {
        let changes = self.store.changes_since(self.bob, 0, 1000).await.unwrap();
        let last = changes.last().map_or(0, |c| c.seq);
        mirror.call(move |m| m.apply(1, &changes, last, true)).await.unwrap();
    }

    async fn on_hub(&self, id: i64) -> Option<herald_proto::Notification> {
        self.store.list(self.bob, None, 100).await.unwrap().0.into_iter().find(|n| n.id == id)
    }
}

fn confirm(subject: &str) -> NewNotification {
    let buttons = vec![
        Button { value: "Y".into(), label: "Accept".into(), style: ButtonStyle::Accept },
        Button { value: "N".into(), label: "Decline".into(), style: ButtonStyle::Cancel },
    ];
    NewNotification { buttons, ..NewNotification::new(subject) }
}

#[tokio::test]
async fn every_kind_of_action_shows_at_once_and_reaches_the_hub() {
    let setup = hub().await;
    let mut plain = Vec::new();
    for i in 0..4 {
        plain.push(setup.send(NewNotification::new(format!("p{i}"))).await);
    }
    let invite = setup.send(confirm("Sprint review")).await;
    let question = setup
        .send(NewNotification { reply: Some(Reply { placeholder: "Answer".into() }), ..NewNotification::new("Lunch?") })
        .await;
    let mirror = herald_client::mirror::SharedMirror::new(Mirror::open_in_memory().unwrap());
    setup.sync(&mirror).await;

    let actions = vec![
        Action::MarkRead { ids: vec![plain[0]], read: true },
        Action::ReadFrom { id: plain[2] },
        Action::Delete { ids: vec![plain[1]] },
        Action::Confirm { id: invite, value: "Y".into() },
        Action::Answer { id: question, text: "Yes, 12:30".into() },
    ];
    for action in actions {
        let recorded = action.clone();
        assert!(
            !mirror.call(move |m| m.record_action(&recorded)).await.unwrap().is_empty(),
            "{action:?} shows at once"
        );
    }
    let local = mirror.call(|m| m.list(None, 100)).await.unwrap();
    assert!(local.iter().all(|n| n.id != plain[1]), "deleted here before the hub knows");
    assert!(local.iter().find(|n| n.id == invite).unwrap().answer.is_some());

    let http = reqwest::Client::new();
    let flushed = outbox::flush(&http, &setup.hub(), &mirror).await.unwrap();
    assert_eq!((flushed.sent, flushed.rejected.len()), (5, 0));
    assert!(setup.on_hub(plain[0]).await.unwrap().read);
    assert!(setup.on_hub(plain[2]).await.unwrap().read && setup.on_hub(plain[3]).await.unwrap().read);
    assert!(setup.on_hub(plain[1]).await.is_none());
    assert_eq!(setup.on_hub(invite).await.unwrap().answer.unwrap().value.as_deref(), Some("Y"));
    assert_eq!(setup.on_hub(question).await.unwrap().answer.unwrap().text.as_deref(), Some("Yes, 12:30"));
    assert!(mirror.call(|m| m.pending_actions(1, 10)).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_refused_action_is_taken_back_here_and_reported() {
    let setup = hub().await;
    let invite = setup.send(confirm("Sprint review")).await;
    let mirror = herald_client::mirror::SharedMirror::new(Mirror::open_in_memory().unwrap());
    setup.sync(&mirror).await;
    let wrong = Action::Confirm { id: invite, value: "maybe".into() };
    let recorded = wrong.clone();
    mirror.call(move |m| m.record_action(&recorded)).await.unwrap();

    let flushed = outbox::flush(&reqwest::Client::new(), &setup.hub(), &mirror).await.unwrap();
    assert_eq!(flushed.sent, 0);
    assert_eq!(flushed.rejected.len(), 1);
    assert_eq!((flushed.rejected[0].0.clone(), flushed.rejected[0].1.code), (wrong, ErrorCode::InvalidRequest));
    assert!(flushed.inbox_changed);
    let local = mirror.call(move |m| m.get(invite)).await.unwrap().unwrap();
    assert_eq!((local.answer, local.read), (None, false), "the choice is taken back: the user can choose again");
    assert!(mirror.call(|m| m.pending_actions(1, 10)).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_action_whose_answer_was_lost_is_not_applied_twice() {
    let setup = hub().await;
    let invite = setup.send(confirm("Sprint review")).await;
    let mirror = herald_client::mirror::SharedMirror::new(Mirror::open_in_memory().unwrap());
    setup.sync(&mirror).await;
    mirror.call(move |m| m.record_action(&Action::Confirm { id: invite, value: "N".into() })).await.unwrap();

    // The hub took the request, but the client died before it heard back: the action is still
    // queued. Sent again with its key, the hub answers as the first time instead of 409.
    let queued = mirror.call(|m| m.pending_actions(1, 1)).await.unwrap().remove(0);
    let first = reqwest::Client::new()
        .post(setup.base.join(&format!("v1/notifications/{invite}/confirm")).unwrap())
        .bearer_auth(&setup.token)
        .header("idempotency-key", &queued.key)
        .json(&serde_json::json!({"value": "N"}))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);

    let flushed = outbox::flush(&reqwest::Client::new(), &setup.hub(), &mirror).await.unwrap();
    assert_eq!((flushed.sent, flushed.rejected.len()), (1, 0), "acknowledged, not refused as a second answer");
    assert_eq!(mirror.call(move |m| m.get(invite)).await.unwrap().unwrap().answer.unwrap().value.as_deref(), Some("N"));
    let log = setup.store.changes_since(setup.bob, 0, 100).await.unwrap();
    let answers = log.iter().filter(|c| matches!(c.kind, herald_proto::ChangeKind::Updated { .. })).count();
    assert_eq!(answers, 1, "answered once on the hub");
}

#[tokio::test]
async fn queued_actions_and_their_keys_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mirror.sqlite3");
    let mut mirror = Mirror::open(&path).unwrap();
    mirror.record_action(&Action::Delete { ids: vec![7] }).unwrap();
    mirror.record_action(&Action::RespondToEvent { event_id: "e1".into(), action: "decline".into() }).unwrap();
    mirror.record_action(&Action::ReadAll).unwrap();
    let before = mirror.pending_actions(1, 10).unwrap();
    drop(mirror);
    let after = Mirror::open(&path).unwrap().pending_actions(1, 10).unwrap();
    assert_eq!(before, after, "same actions, same order, same keys");
    assert_eq!(after.len(), 2, "a read-all that read nothing here tells the hub nothing");
}
