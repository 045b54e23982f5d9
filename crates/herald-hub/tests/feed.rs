//! The WebSocket feed: replay from a cursor, live changes, lag, and cursors the hub never gave.

mod common;

use common::*;

#[tokio::test]
async fn the_feed_replays_from_the_cursor_then_streams_live_changes() {
    let hub = start().await;
    let old = hub.send_to("bob", "before").await;
    let _ = hub.send_to("alice", "not for bob").await;

    let mut feed = hub.feed(&hub.bob, 0).await;
    let Some(Ok(Message::Text(hello))) = feed.next().await else { panic!("expected a hello") };
    let FeedFrame::Hello { hub_id, .. } = serde_json::from_str(&hello).unwrap() else {
        panic!("hello comes first: {hello}")
    };
    assert_eq!(hub_id.len(), 32);
    let FeedFrame::Change(first) = next_frame(&mut feed).await else { panic!("expected the backlog first") };
    assert!(matches!(&first.kind, ChangeKind::Created { notification } if notification.id == old));
    let FeedFrame::CaughtUp { seq } = next_frame(&mut feed).await else { panic!("expected caught_up") };
    assert_eq!(seq, first.seq);

    let live = hub.send_to("bob", "live one").await;
    let FeedFrame::Change(change) = next_frame(&mut feed).await else { panic!("expected a live change") };
    assert!(change.seq > seq);
    assert!(
        matches!(&change.kind, ChangeKind::Created { notification } if notification.id == live && notification.subject == "live one")
    );

    // Reconnecting from the latest cursor replays nothing already seen.
    let mut again = hub.feed(&hub.bob, change.seq).await;
    assert_eq!(next_frame(&mut again).await, FeedFrame::CaughtUp { seq: change.seq });
}

#[tokio::test]
async fn a_cursor_from_another_hub_is_refused_so_the_client_can_resync() {
    let hub = start().await;
    hub.send_to("bob", "only one").await;
    let mut feed = hub.feed(&hub.bob, 999).await;
    let FeedFrame::Error(error) = next_frame(&mut feed).await else { panic!("expected an error frame") };
    assert_eq!(error.code, ErrorCode::CursorAhead);
}

#[tokio::test]
async fn a_feed_that_falls_behind_the_bus_still_gets_every_change_once_in_order() {
    // A bus of one: a burst of 200 changes overruns it, so the feed must re-read the log.
    let hub = start_with(Store::open_in_memory().unwrap().with_bus_capacity(1)).await;
    let mut feed = hub.feed(&hub.bob, 0).await;
    assert_eq!(next_frame(&mut feed).await, FeedFrame::CaughtUp { seq: 0 });
    // One delivery to bob 200 times over announces 200 changes back to back.
    let bob = hub.store.user_by_name("bob").await.unwrap().unwrap();
    let burst = NewNotification::new("burst");
    let sent: Vec<i64> = hub.store.deliver(vec![bob.id; 200], burst).await.unwrap().iter().map(|n| n.id).collect();
    let mut received = Vec::new();
    let mut last_seq = 0;
    while received.len() < sent.len() {
        let FeedFrame::Change(change) = next_frame(&mut feed).await else { panic!("expected changes only") };
        assert!(change.seq > last_seq, "in order, no repeats");
        last_seq = change.seq;
        if let ChangeKind::Created { notification } = change.kind {
            received.push(notification.id);
        }
    }
    assert_eq!(received, sent);
}

#[tokio::test]
async fn the_change_log_pages_over_http_too() {
    let hub = start().await;
    for i in 0..5 {
        hub.send_to("bob", &format!("n{i}")).await;
    }
    let mut seqs = Vec::new();
    let mut since = 0;
    let mut remaining = Vec::new();
    loop {
        let (status, page) = hub.get(&hub.bob, &format!("/v1/changes?since={since}&limit=2&count=true")).await;
        assert_eq!(status, 200, "{page}");
        remaining.push(page["remaining"].as_i64().unwrap());
        assert!(!page["hub_id"].as_str().unwrap().is_empty(), "says whose log it is: {page}");
        assert!(page["user_id"].as_i64().unwrap() > 0);
        seqs.extend(page["changes"].as_array().unwrap().iter().map(|c| c["seq"].as_i64().unwrap()));
        match page["next"].as_i64() {
            Some(next) => since = next,
            None => break,
        }
    }
    assert_eq!(seqs.len(), 5);
    assert_eq!(remaining, [5, 3, 1], "what is left, for a catch-up's progress");
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "oldest first, no repeats: {seqs:?}");
    let (_, uncounted) = hub.get(&hub.bob, "/v1/changes").await;
    assert!(uncounted.get("remaining").is_none(), "counted only when asked: {uncounted}");
    let (status, got) = hub.get(&hub.bob, "/v1/changes?since=999999").await;
    assert_eq!((status, code(&got)), (400, ErrorCode::CursorAhead));
    let (_, alices) = hub.get(&hub.alice, "/v1/changes").await;
    assert!(alices["changes"].as_array().unwrap().is_empty(), "only the caller's own log");
}

#[tokio::test]
async fn a_feed_that_stops_answering_pings_is_closed() {
    // Pings every second; a client that never reads (so never answers) is dropped after two.
    let store = Store::open_in_memory().unwrap();
    let (_, bob) = store.add_user("bob").await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = herald_hub::HubConfig { ping_every: std::time::Duration::from_secs(1), ..Default::default() };
    tokio::spawn(herald_hub::run_with(listener, store, config, std::future::pending()));
    let url = format!("ws://{addr}/v1/feed");
    let mut request = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url).unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {bob}").parse().unwrap());
    let (socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    // Not reading means no pongs go out (tungstenite answers pings only while reading), so this
    // wait is the silence under test, not a synchronisation: the hub must close within ~3 pings.
    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    let (_, mut read) = socket.split();
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Some(Ok(_)) = read.next().await {}
    })
    .await;
    assert!(ended.is_ok(), "the hub should have closed the silent feed");
}

#[tokio::test]
async fn a_cursor_older_than_the_journal_gets_a_resync_and_a_snapshot() {
    let hub = start().await;
    let first = hub.send_to("bob", "first").await;
    let second = hub.send_to("bob", "second").await;
    let (_, _) = hub.post(&hub.bob, "/v1/notifications/read", json!({"ids": [first], "read": true}).to_string()).await;
    hub.store.trim_journal("9999-01-01T00:00:00.000Z".into()).await.unwrap();
    let third = hub.send_to("bob", "third").await;
    let bob = hub.store.user_by_name("bob").await.unwrap().unwrap();
    let (floor, latest) = hub.store.journal_bounds(bob.id).await.unwrap();
    assert!(floor > 0 && latest > floor);

    let mut feed = hub.feed(&hub.bob, 1).await;
    assert_eq!(next_frame(&mut feed).await, FeedFrame::Resync { floor });
    let FeedFrame::Snapshot { notifications } = next_frame(&mut feed).await else { panic!("expected a snapshot") };
    let state: Vec<(i64, bool)> = notifications.iter().map(|n| (n.id, n.read)).collect();
    assert_eq!(state, [(third, false), (second, false), (first, true)], "the inbox as it is now");
    assert_eq!(next_frame(&mut feed).await, FeedFrame::CaughtUp { seq: latest });

    // A cursor at or above the floor replays normally.
    let mut fine = hub.feed(&hub.bob, floor).await;
    assert!(matches!(next_frame(&mut fine).await, FeedFrame::Change(_)));

    let (status, body) = hub.get(&hub.bob, "/v1/changes?since=1").await;
    assert_eq!((status, code(&body)), (410, ErrorCode::ResyncRequired));
    let (status, _) = hub.get(&hub.bob, &format!("/v1/changes?since={floor}")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_feed_says_how_long_the_catch_up_is_before_it_starts() {
    let hub = start().await;
    for i in 0..3 {
        hub.send_to("bob", &format!("n{i}")).await;
    }
    let mut feed = hub.feed(&hub.bob, 1).await;
    assert!(matches!(next_frame_any(&mut feed).await, FeedFrame::DoNotDisturb(_)));
    assert_eq!(next_frame_any(&mut feed).await, FeedFrame::Backlog { changes: 2 }, "two after seq 1");
    assert!(matches!(next_frame_any(&mut feed).await, FeedFrame::Change(c) if c.seq == 2));

    let mut nothing_new = hub.feed(&hub.bob, 3).await;
    assert!(matches!(next_frame_any(&mut nothing_new).await, FeedFrame::DoNotDisturb(_)));
    assert_eq!(next_frame_any(&mut nothing_new).await, FeedFrame::CaughtUp { seq: 3 }, "no backlog frame for nothing");
}
