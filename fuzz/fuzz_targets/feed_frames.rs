//! The client's side of the feed: each input line is a text frame from a hub (valid or not).
//! Frames that decode go through the same plan the sync engine follows and into a real SQLite
//! mirror. Nothing may panic, every write must succeed (a write that fails would drop the
//! connection and fail again on the same frame, for ever), the cursor never goes back, and the
//! inbox stays readable.

#![no_main]

use std::cell::RefCell;

use herald_client::mirror::{Identity, Reset};
use herald_client::sync::plan::{FeedPlan, Step};
use herald_client::Mirror;
use herald_proto::FeedFrame;
use libfuzzer_sys::fuzz_target;

const ACCOUNT: i64 = 1;

thread_local! {
    // Opening a mirror runs every migration (tens of milliseconds); one mirror, emptied before
    // each input, keeps the fuzzer at thousands of inputs a second.
    static MIRROR: RefCell<Mirror> = RefCell::new(Mirror::open_in_memory().unwrap());
}

fuzz_target!(|data: &[u8]| MIRROR.with_borrow_mut(|mirror| {
    mirror.reset(ACCOUNT, Reset::OtherAccount).unwrap();
    assert_eq!(mirror.list(None, 1).unwrap().len(), 0);
    let mut plan = FeedPlan::new(0);
    for line in data.split(|&b| b == b'\n') {
        let Ok(frame) = serde_json::from_slice::<FeedFrame>(line) else { continue };
        match plan.on_frame(frame) {
            Step::Apply { changes, cursor, caught_up } => {
                let before = mirror.cursor(ACCOUNT).unwrap();
                let applied = mirror.apply(ACCOUNT, &changes, cursor, caught_up).expect("a decoded frame applies");
                assert!(applied.cursor >= before, "the cursor went back from {before} to {}", applied.cursor);
            }
            Step::Resync => {
                mirror.reset(ACCOUNT, Reset::HubRestored).unwrap();
            }
            Step::Identify { hub_id, user_id } => {
                // Another hub or user: the engine empties the account and starts over.
                if mirror.identify(ACCOUNT, &hub_id, user_id).unwrap() == Identity::Different {
                    mirror.reset(ACCOUNT, Reset::OtherAccount).unwrap();
                    plan = FeedPlan::new(0);
                }
            }
            Step::Fail(_) => break,
            Step::Wait | Step::Live(_) | Step::LiveAnswered(_) | Step::DoNotDisturb(_) | Step::Backlog(_) => {}
        }
    }
    let listed = mirror.list(None, 1_000).unwrap();
    let ids: std::collections::HashSet<i64> = listed.iter().map(|n| n.id).collect();
    assert_eq!(ids.len(), listed.len(), "a notification is listed twice");
    mirror.unread_count().unwrap();
}));
