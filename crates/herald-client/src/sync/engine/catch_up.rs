//! Catch-up over `GET /v1/changes` before the feed connects: pages of up to 1,000 changes, each
//! applied in one transaction with its cursor, with progress ("x of y") after each. A hub that
//! dies mid-way costs at most the page in flight: the next session goes on from the cursor.

use herald_proto::{ApiError, ChangesPage, ErrorCode};
use url::Url;

use super::{SyncEngine, SyncError};
use crate::mirror::{Identity, Reset};

/// Changes per page, the most the hub gives.
const PAGE: u32 = 1_000;
/// A catch-up this long refreshes the query planner's statistics afterwards.
const STATISTICS_AFTER: i64 = 1_000;

/// How a catch-up ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum CatchUp {
    /// The mirror holds everything the log had; the feed brings what comes next.
    Done,
    /// The feed does it instead: the hub no longer keeps the changes after the cursor (the feed
    /// rebuilds the inbox with `resync` and a snapshot, which pages of changes cannot), or the
    /// hub is older and its pages do not say whose log they are.
    ThroughFeed,
}

impl SyncEngine {
    /// Applies the hub's changes after the account's cursor, page by page. `history`: these are
    /// not news (a first sync), so they raise no toasts.
    pub(super) async fn catch_up(&self, server: &Url, token: &str, mut history: bool) -> Result<CatchUp, SyncError> {
        let account = self.account;
        let mut cursor = self.mirror.call(move |m| m.cursor(account)).await?;
        // Whose log the pages are: checked against the account on the first page, and every
        // later page must be the same one's (another hub may answer at the address mid-way).
        let mut identified: Option<(String, i64)> = None;
        let mut progress: Option<(i64, i64)> = None;
        loop {
            let page = match self.fetch(server, token, cursor, progress.is_none()).await {
                Ok(page) => page,
                Err(SyncError::Refused(e)) if e.code == ErrorCode::ResyncRequired => return Ok(CatchUp::ThroughFeed),
                Err(SyncError::Refused(e)) if e.code == ErrorCode::CursorAhead => {
                    // The hub was restored from an older backup: start this account over, and
                    // what comes now is the inbox as it is, not news.
                    self.start_over(Reset::HubRestored).await?;
                    (cursor, identified, progress, history) = (0, None, None, true);
                    continue;
                }
                Err(e) => return Err(e),
            };
            if page.hub_id.is_empty() {
                return Ok(CatchUp::ThroughFeed);
            }
            let whose = (page.hub_id.clone(), page.user_id);
            match &identified {
                Some(first) if *first != whose => {
                    return Err(SyncError::Lost("another hub answered at this address mid-way".into()))
                }
                Some(_) => {}
                None => {
                    let (hub_id, user_id) = whose.clone();
                    if self.mirror.call(move |m| m.identify(account, &hub_id, user_id)).await? == Identity::Different {
                        self.start_over(Reset::OtherAccount).await?;
                        return Err(SyncError::StartOver);
                    }
                    identified = Some(whose);
                }
            }
            let remaining = page.remaining.unwrap_or(0);
            if progress.is_none() && remaining > 0 {
                // Said before the first write, so the window shows "0 of N" at once.
                self.emit(super::SyncEvent::Progress { account, done: 0, total: remaining });
            }
            let (done, total) = progress.get_or_insert((0, remaining));
            let last = page.changes.last().map_or(cursor, |c| c.seq);
            let to = page.next.unwrap_or(last).max(cursor);
            let count = page.changes.len() as i64;
            if count > 0 {
                let changes = page.changes;
                let applied = self.mirror.call(move |m| m.apply(account, &changes, to, false)).await?;
                *done = (*done + count).min(*total);
                self.emit(super::SyncEvent::Progress { account, done: *done, total: *total });
                if !applied.is_empty() {
                    self.index_ready.notify_one();
                    self.mirror_changed(applied, history);
                }
            }
            cursor = to;
            if page.next.is_none() {
                if progress.is_some_and(|(done, _)| done >= STATISTICS_AFTER) {
                    // The inbox changed shape: let the query planner know.
                    self.mirror.call(|m| m.refresh_statistics()).await?;
                }
                return Ok(CatchUp::Done);
            }
        }
    }

    /// A page after `since`; `count`: also how many changes remain (the first page's question).
    async fn fetch(&self, server: &Url, token: &str, since: i64, count: bool) -> Result<ChangesPage, SyncError> {
        let mut url = server.join("v1/changes").map_err(|e| SyncError::Connect(e.to_string()))?;
        url.query_pairs_mut().append_pair("since", &since.to_string()).append_pair("limit", &PAGE.to_string());
        if count {
            url.query_pairs_mut().append_pair("count", "true");
        }
        let response = self.http.get(url).bearer_auth(token).send().await.map_err(|e| SyncError::connect(&e))?;
        let status = response.status();
        if status.is_success() {
            return response.json().await.map_err(|e| SyncError::Lost(e.to_string()));
        }
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(SyncError::Unauthorized);
        }
        match response.json::<ApiError>().await {
            Ok(error) => Err(SyncError::Refused(error)),
            // A proxy's or a half-started hub's answer: try again later.
            Err(_) => Err(SyncError::Connect(format!("unexpected HTTP {status} from the hub's address"))),
        }
    }
}
