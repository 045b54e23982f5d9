//! Pure feed decisions: what to apply to the mirror for each frame the hub sends.
//!
//! While catching up, changes are gathered and applied in batches (one transaction per batch,
//! not per change); once caught up, each live change is applied as it comes. Anything at or
//! below the cursor was applied already and is dropped, so replays and reconnects never
//! duplicate.

use herald_proto::{ApiError, Change, ChangeKind, DoNotDisturb, FeedFrame, LiveEvent};

/// The seq snapshot entries carry: above the reset cursor (0), so the mirror applies them.
const SNAPSHOT_SEQ: i64 = 1;

/// Catch-up changes applied per transaction.
pub const CATCH_UP_BATCH: usize = 500;

#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing to write yet.
    Wait,
    /// Show a live event now; it touches neither the mirror nor the cursor.
    Live(LiveEvent),
    /// The user answered live event (hub id) this on some device: its toast and panel entry go.
    LiveAnswered(String),
    /// The user's quiet hours and do-not-disturb changed (or were announced on connect).
    DoNotDisturb(DoNotDisturb),
    /// The catch-up will bring this many changes.
    Backlog(i64),
    /// Check that the mirror belongs to this hub and user before applying anything.
    Identify { hub_id: String, user_id: i64 },
    /// Write these changes and move the cursor to `cursor`, in one transaction.
    Apply {
        changes: Vec<Change>,
        cursor: i64,
        /// This write completes the catch-up: the connection is now live.
        caught_up: bool,
    },
    /// The hub trimmed the changes after our cursor: empty the mirror (keeping queued actions);
    /// snapshot batches follow as `Apply` steps.
    Resync,
    /// The hub refused to continue.
    Fail(ApiError),
}

#[derive(Debug)]
pub struct FeedPlan {
    cursor: i64,
    caught_up: bool,
    pending: Vec<Change>,
}

impl FeedPlan {
    /// Starts a connection opened with `since = cursor`.
    pub fn new(cursor: i64) -> Self {
        Self { cursor, caught_up: false, pending: Vec::new() }
    }

    pub fn is_caught_up(&self) -> bool {
        self.caught_up
    }

    pub fn on_frame(&mut self, frame: FeedFrame) -> Step {
        match frame {
            FeedFrame::Hello { hub_id, user_id } => Step::Identify { hub_id, user_id },
            FeedFrame::Event(event) => Step::Live(event),
            FeedFrame::EventAnswered { id, .. } => Step::LiveAnswered(id),
            FeedFrame::DoNotDisturb(settings) => Step::DoNotDisturb(settings),
            FeedFrame::Backlog { changes } => Step::Backlog(changes),
            FeedFrame::Change(change) if change.seq <= self.last_seen() => Step::Wait,
            FeedFrame::Change(change) if self.caught_up => {
                self.cursor = change.seq;
                Step::Apply { cursor: change.seq, changes: vec![change], caught_up: false }
            }
            FeedFrame::Change(change) => {
                self.pending.push(change);
                if self.pending.len() < CATCH_UP_BATCH {
                    return Step::Wait;
                }
                let changes = std::mem::take(&mut self.pending);
                self.cursor = changes.last().map_or(self.cursor, |c| c.seq);
                Step::Apply { cursor: self.cursor, changes, caught_up: false }
            }
            FeedFrame::CaughtUp { seq } => {
                let changes = std::mem::take(&mut self.pending);
                let last = changes.last().map_or(self.cursor, |c| c.seq);
                self.cursor = self.cursor.max(seq).max(last);
                self.caught_up = true;
                Step::Apply { changes, cursor: self.cursor, caught_up: true }
            }
            FeedFrame::Resync { .. } => {
                self.cursor = 0;
                self.pending.clear();
                Step::Resync
            }
            // A snapshot is the current state, not journal entries: applied as creations without
            // moving the cursor (it moves when `caught_up` names the seq the snapshot stands for).
            FeedFrame::Snapshot { notifications } => Step::Apply {
                changes: notifications
                    .into_iter()
                    .map(|notification| Change { seq: SNAPSHOT_SEQ, kind: ChangeKind::Created { notification } })
                    .collect(),
                cursor: self.cursor,
                caught_up: false,
            },
            FeedFrame::Error(error) => Step::Fail(error),
        }
    }

    /// The highest seq received, applied or still pending.
    fn last_seen(&self) -> i64 {
        self.pending.last().map_or(self.cursor, |c| c.seq)
    }
}

#[cfg(test)]
mod tests {
    use herald_proto::{ErrorCode, Notification};

    use super::*;

    fn change(seq: i64) -> FeedFrame {
        FeedFrame::Change(Change { seq, kind: ChangeKind::ReadChanged { ids: vec![seq], read: true } })
    }

    fn seqs(step: &Step) -> Vec<i64> {
        match step {
            Step::Apply { changes, .. } => changes.iter().map(|c| c.seq).collect(),
            _ => panic!("expected Apply, got {step:?}"),
        }
    }

    #[test]
    fn catch_up_is_applied_as_one_batch_when_caught_up() {
        let mut plan = FeedPlan::new(10);
        assert_eq!(plan.on_frame(change(11)), Step::Wait);
        assert_eq!(plan.on_frame(change(14)), Step::Wait);
        let step = plan.on_frame(FeedFrame::CaughtUp { seq: 14 });
        assert_eq!(seqs(&step), [11, 14]);
        assert!(matches!(step, Step::Apply { cursor: 14, caught_up: true, .. }));
        assert!(plan.is_caught_up());
    }

    #[test]
    fn a_resync_restarts_from_zero_and_a_snapshot_applies_without_moving_the_cursor() {
        let mut plan = FeedPlan::new(40);
        assert_eq!(plan.on_frame(FeedFrame::Resync { floor: 90 }), Step::Resync);
        let note = Notification::plain(5, "kept", "2026-11-21T10:00:00Z");
        let step = plan.on_frame(FeedFrame::Snapshot { notifications: vec![note.clone()] });
        assert_eq!(
            step,
            Step::Apply {
                changes: vec![Change { seq: SNAPSHOT_SEQ, kind: ChangeKind::Created { notification: note } }],
                cursor: 0,
                caught_up: false
            }
        );
        assert_eq!(plan.on_frame(change(101)), Step::Wait, "changes after the snapshot are caught up as usual");
        let step = plan.on_frame(FeedFrame::CaughtUp { seq: 101 });
        assert!(matches!(step, Step::Apply { cursor: 101, caught_up: true, .. }));
    }

    #[test]
    fn the_backlog_length_is_passed_on_and_moves_nothing() {
        let mut plan = FeedPlan::new(3);
        assert_eq!(plan.on_frame(FeedFrame::Backlog { changes: 1200 }), Step::Backlog(1200));
        assert_eq!(plan.on_frame(change(4)), Step::Wait, "the catch-up itself is unchanged");
    }

    #[test]
    fn nothing_to_catch_up_still_reports_caught_up() {
        let mut plan = FeedPlan::new(7);
        assert_eq!(
            plan.on_frame(FeedFrame::CaughtUp { seq: 7 }),
            Step::Apply { changes: vec![], cursor: 7, caught_up: true }
        );
    }

    #[test]
    fn live_changes_apply_one_by_one_and_duplicates_are_dropped() {
        let mut plan = FeedPlan::new(0);
        plan.on_frame(change(1));
        plan.on_frame(FeedFrame::CaughtUp { seq: 1 });
        assert_eq!(seqs(&plan.on_frame(change(2))), [2]);
        assert_eq!(plan.on_frame(change(2)), Step::Wait, "a repeat of seq 2");
        assert_eq!(plan.on_frame(change(1)), Step::Wait, "older than the cursor");
        assert_eq!(seqs(&plan.on_frame(change(5))), [5]);
    }

    #[test]
    fn replays_below_the_starting_cursor_are_dropped() {
        let mut plan = FeedPlan::new(20);
        assert_eq!(plan.on_frame(change(19)), Step::Wait);
        assert_eq!(seqs(&plan.on_frame(FeedFrame::CaughtUp { seq: 20 })), Vec::<i64>::new());
    }

    #[test]
    fn long_catch_ups_are_written_in_batches() {
        let mut plan = FeedPlan::new(0);
        let mut writes = Vec::new();
        for seq in 1..=(CATCH_UP_BATCH as i64 * 2 + 3) {
            if let Step::Apply { changes, cursor, .. } = plan.on_frame(change(seq)) {
                writes.push((changes.len(), cursor));
            }
        }
        assert_eq!(writes, [(CATCH_UP_BATCH, CATCH_UP_BATCH as i64), (CATCH_UP_BATCH, 2 * CATCH_UP_BATCH as i64)]);
        assert_eq!(seqs(&plan.on_frame(FeedFrame::CaughtUp { seq: 1003 })).len(), 3);
    }

    #[test]
    fn hello_asks_for_an_identity_check() {
        let mut plan = FeedPlan::new(3);
        let hello = FeedFrame::Hello { hub_id: "h".into(), user_id: 9 };
        assert_eq!(plan.on_frame(hello), Step::Identify { hub_id: "h".into(), user_id: 9 });
    }

    #[test]
    fn live_events_pass_through_without_moving_the_cursor() {
        let mut plan = FeedPlan::new(4);
        plan.on_frame(FeedFrame::CaughtUp { seq: 4 });
        let event = LiveEvent {
            id: "e".into(),
            kind: herald_proto::LiveKind::Reminder,
            title: "Stand-up".into(),
            body: String::new(),
            actions: vec![],
            at: None,
            expires_at: "2999-01-01T00:00:00Z".into(),
        };
        assert_eq!(plan.on_frame(FeedFrame::Event(event.clone())), Step::Live(event));
        assert_eq!(plan.on_frame(change(4)), Step::Wait, "the cursor is unchanged");
        assert_eq!(seqs(&plan.on_frame(change(5))), [5]);
    }

    #[test]
    fn an_error_frame_fails_the_connection() {
        let mut plan = FeedPlan::new(0);
        let error = ApiError::new(ErrorCode::Internal, "x");
        assert_eq!(plan.on_frame(FeedFrame::Error(error.clone())), Step::Fail(error));
    }
}
