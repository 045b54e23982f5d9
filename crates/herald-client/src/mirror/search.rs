//! Querying the mirror offline — filters, pages, full-text search — and the background indexer
//! that keeps the search index up with the rows.

use herald_db::filters::{self, Filters};
use herald_db::notification_row::{from_row, COLUMNS};
use herald_proto::Notification;
use rusqlite::types::ToSql;

use super::ids::{self, AccountId};
use super::search_parts;
use super::{Mirror, MirrorError};

/// A module with at least this part of the unread notifications is found sooner by walking the
/// inbox newest first than through the type index (at 1M rows, a module of a quarter of them:
/// 0.2 ms against 244 ms; one of a hundredth: a walk of ~5,000 rows, about 1 ms).
const COMMON_SHARE: f64 = 0.01;

/// Where the next page starts: the last notification of the previous one. The inbox is in the
/// order things happened on the hubs (`created_at`), ties by id.
/// Ordered as the inbox is (oldest first): by time, then id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Before {
    pub created_at: String,
    #[ts(type = "number")]
    pub id: i64,
}

impl Before {
    pub fn after(last: &Notification) -> Self {
        Self { created_at: last.created_at.clone(), id: last.id }
    }
}

/// What to list; every field narrows the result. Default: the whole inbox, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Older than this (the previous page's last).
    pub before: Option<Before>,
    pub limit: u32,
    /// One account's notifications only; None: every account's.
    pub account: Option<AccountId>,
    /// Only unread (true) or only read (false).
    pub unread: Option<bool>,
    /// Exact type, e.g. `social.reply`.
    pub kind: Option<String>,
    /// Every type of a module, e.g. `social`.
    pub module: Option<String>,
    pub tag: Option<String>,
    pub sub_tag: Option<String>,
    /// Created at or after / before (RFC 3339 UTC, as the hub writes times).
    pub from: Option<String>,
    pub to: Option<String>,
    /// Words that must all appear in subject or body (prefix-matched, accents ignored). Finds only
    /// what the indexer has reached, which is at most moments behind.
    pub text: Option<String>,
}

impl Mirror {
    /// A page of notifications matching `query`, newest first.
    pub fn search(&self, query: &Query) -> Result<Vec<Notification>, MirrorError> {
        // One snapshot for all the statements below: another process's indexer may reshape the
        // search index's parts between them (this one reads, so the transaction is only ever
        // rolled back).
        let _snapshot = self.conn.unchecked_transaction()?;
        let filters = self.filters(query)?;
        if let Some(words) = query.text.as_deref().and_then(herald_db::fts_query) {
            let others = Filters { text: None, ..filters };
            let walks = self.walks(query)?;
            if let Some(page) = self.newest_matches(&walks, query, &words, &others)? {
                return Ok(page);
            }
        }
        self.search_in_general(query, &filters)
    }

    /// The query's filters as SQL sees them.
    pub(super) fn filters<'q>(&self, query: &'q Query) -> Result<Filters<'q>, MirrorError> {
        Ok(Filters {
            unread: query.unread,
            kind: query.kind.as_deref(),
            module: query.module.as_deref(),
            tag: query.tag.as_deref(),
            sub_tag: query.sub_tag.as_deref(),
            from: query.from.as_deref(),
            to: query.to.as_deref(),
            text: query.text.as_deref(),
            // Known for unread notifications only: for other queries SQLite's own guess stands.
            module_is_common: match (&query.module, query.unread) {
                (Some(module), Some(true)) => self.share_of_unread(module)? >= COMMON_SHARE,
                _ => false,
            },
        })
    }

    /// Any query, planned by SQLite: filters, then the newest `limit` of what passes.
    pub(super) fn search_in_general(
        &self,
        query: &Query,
        filters: &Filters<'_>,
    ) -> Result<Vec<Notification>, MirrorError> {
        let mut sql = format!("SELECT {COLUMNS} FROM notifications WHERE 1");
        let mut args: Vec<Box<dyn ToSql>> = Vec::new();
        if let Some(before) = &query.before {
            args.push(Box::new(before.created_at.clone()));
            args.push(Box::new(before.id));
            sql.push_str(&format!(" AND (created_at, id) < (?{}, ?{})", args.len() - 1, args.len()));
        }
        if let Some(account) = query.account {
            let (first, last) = ids::range(account);
            args.push(Box::new(first));
            args.push(Box::new(last));
            sql.push_str(&format!(" AND id BETWEEN ?{} AND ?{}", args.len() - 1, args.len()));
        }
        filters::append(&Filters { text: None, ..*filters }, &mut sql, &mut args);
        if let Some(words) = filters.text.and_then(herald_db::fts_query) {
            self.append_text_filter(words, &mut sql, &mut args)?;
        }
        args.push(Box::new(query.limit.max(1)));
        sql.push_str(&format!(" ORDER BY created_at DESC, id DESC LIMIT ?{}", args.len()));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let params: Vec<&dyn ToSql> = args.iter().map(AsRef::as_ref).collect();
        let rows = stmt.query_map(params.as_slice(), from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Only rows searchable for `words`: a match in any part of the search index.
    fn append_text_filter(
        &self,
        words: String,
        sql: &mut String,
        args: &mut Vec<Box<dyn ToSql>>,
    ) -> Result<(), MirrorError> {
        args.push(Box::new(words));
        let n = args.len();
        let parts = search_parts::parts(&self.conn)?;
        let matches: Vec<String> =
            parts.iter().map(|p| format!("SELECT rowid FROM {t} WHERE {t} MATCH ?{n}", t = p.table())).collect();
        if matches.is_empty() {
            sql.push_str(" AND 0");
            return Ok(());
        }
        // SQLite takes at most 500 SELECTs in one compound: a mirror of ~5M rows has more parts.
        let lists: Vec<String> =
            matches.chunks(400).map(|chunk| format!("id IN ({})", chunk.join(" UNION ALL "))).collect();
        // A changed row's old entry waits to be dropped; the row itself waits to be indexed.
        sql.push_str(&format!(" AND search_part IS NOT NULL AND ({})", lists.join(" OR ")));
        Ok(())
    }

    /// One step of the background indexer, in one transaction: indexes up to `limit` rows not
    /// yet searchable (or first drops up to `limit` entries of rows deleted or changed); returns
    /// how many. Called in a loop until it returns 0.
    pub fn index_some(&mut self, limit: u32) -> Result<usize, MirrorError> {
        let size = self.part_size;
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let done = search_parts::index_some(&tx, size, limit)?;
        tx.commit()?;
        Ok(done)
    }

    /// The module's part of the unread notifications, from the counts kept with the rows: what
    /// the inbox is made of, known without a scan.
    fn share_of_unread(&self, module: &str) -> Result<f64, MirrorError> {
        let (of_module, all): (i64, i64) = self
            .conn
            .prepare_cached(
                "SELECT coalesce(sum(unread) FILTER (WHERE type = ?1 OR (type >= ?1 || '.' AND type < ?1 || '/')), 0),
                    coalesce(sum(unread), 0)
             FROM unread_counts",
            )?
            .query_row([module], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(if all == 0 { 0.0 } else { of_module as f64 / all as f64 })
    }

    /// Refreshes the statistics SQLite plans the inbox's queries with. Without them it cannot
    /// tell a module that fills half the inbox from a rare one: "unread of one module" at 1M rows
    /// took 244 ms (a sort of every match) instead of 0.3 ms (a walk of the unread index). With
    /// `analysis_limit`, each index is sampled, not read: milliseconds at any size.
    pub fn refresh_statistics(&mut self) -> Result<(), MirrorError> {
        self.conn.execute_batch("PRAGMA analysis_limit = 1000; ANALYZE notifications;")?;
        Ok(())
    }

    /// Rows the search index has not reached yet.
    pub fn unindexed(&self) -> Result<u64, MirrorError> {
        Ok(self.conn.query_row("SELECT count(*) FROM notifications WHERE search_part IS NULL", [], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use herald_proto::{Change, ChangeKind};

    use super::*;

    fn note(id: i64, kind: &str, subject: &str, tag: Option<&str>) -> Change {
        let mut notification = Notification::plain(id, subject, format!("2026-11-{:02}T10:00:00.000Z", 10 + id));
        notification.kind = kind.into();
        notification.tag = tag.map(str::to_owned);
        notification.body = format!("body of {subject}");
        Change { seq: id, kind: ChangeKind::Created { notification } }
    }

    fn mirror() -> Mirror {
        let mut mirror = Mirror::open_in_memory().unwrap();
        let changes = vec![
            note(1, "social.reply", "Ann replied about the budget", None),
            note(2, "purchase.approval", "Approve PO-42", Some("po-42")),
            note(3, "social.mention", "Mark mentioned you in Café plans", None),
            note(4, "socialite.party", "Party tonight", None),
        ];
        mirror.apply(1, &changes, 4, true).unwrap();
        mirror
    }

    fn subjects(found: Vec<Notification>) -> Vec<String> {
        found.into_iter().map(|n| n.subject).collect()
    }

    #[test]
    fn filters_narrow_the_inbox_and_pages_go_newest_first() {
        let m = mirror();
        let q = |query: Query| subjects(m.search(&Query { limit: query.limit.max(10), ..query }).unwrap());
        assert_eq!(
            q(Query { module: Some("social".into()), ..Query::default() }),
            ["Mark mentioned you in Café plans", "Ann replied about the budget"]
        );
        assert_eq!(q(Query { tag: Some("po-42".into()), ..Query::default() }), ["Approve PO-42"]);
        assert_eq!(q(Query { from: Some("2026-11-13T00:00:00.000Z".into()), ..Query::default() }).len(), 2);
        let third = m.get(3).unwrap().unwrap();
        let page = m.search(&Query { before: Some(Before::after(&third)), limit: 1, ..Query::default() }).unwrap();
        assert_eq!(subjects(page), ["Approve PO-42"]);
    }

    #[test]
    fn text_search_finds_what_the_indexer_reached_and_follows_deletes() {
        let mut m = mirror();
        let find = |m: &Mirror, words: &str| {
            subjects(m.search(&Query { limit: 10, text: Some(words.into()), ..Query::default() }).unwrap())
        };
        assert!(find(&m, "budget").is_empty(), "not indexed yet");
        assert_eq!(m.unindexed().unwrap(), 4);
        while m.index_some(3).unwrap() > 0 {}
        assert_eq!(m.unindexed().unwrap(), 0);
        assert_eq!(find(&m, "budg"), ["Ann replied about the budget"], "prefix match");
        assert_eq!(find(&m, "cafe"), ["Mark mentioned you in Café plans"], "accents ignored");
        assert_eq!(find(&m, "\"OR budget"), Vec::<String>::new(), "user text never becomes FTS syntax");
        m.apply(1, &[Change { seq: 5, kind: ChangeKind::Deleted { ids: vec![1] } }], 5, false).unwrap();
        assert!(find(&m, "budget").is_empty());
    }

    #[test]
    fn a_notification_created_and_read_in_one_batch_is_not_counted() {
        let mut m = Mirror::open_in_memory().unwrap();
        let batch = vec![
            note(1, "fresh.kind", "a", None),
            note(2, "fresh.kind", "b", None),
            Change { seq: 3, kind: ChangeKind::ReadChanged { ids: vec![1], read: true } },
            note(4, "other.kind", "c", None),
            Change { seq: 5, kind: ChangeKind::Deleted { ids: vec![4] } },
        ];
        m.apply(1, &batch, 5, true).unwrap();
        assert_eq!(m.unread_count().unwrap(), 1);
        assert_eq!(m.unread_by_type().unwrap(), [("fresh.kind".to_string(), 1)]);
        m.reset(1, crate::mirror::Reset::HubRestored).unwrap();
        assert_eq!(m.unread_count().unwrap(), 0, "an emptied mirror counts nothing");
    }

    #[test]
    fn unread_counts_follow_every_change_without_a_scan() {
        let mut m = mirror();
        assert_eq!(m.unread_count().unwrap(), 4);
        m.apply(1, &[Change { seq: 5, kind: ChangeKind::ReadChanged { ids: vec![1, 3], read: true } }], 5, false)
            .unwrap();
        assert_eq!(m.unread_count().unwrap(), 2);
        assert_eq!(
            m.unread_by_type().unwrap(),
            [("purchase.approval".to_string(), 1), ("socialite.party".to_string(), 1)]
        );
        m.apply(1, &[Change { seq: 6, kind: ChangeKind::Deleted { ids: vec![2, 3] } }], 6, false).unwrap();
        assert_eq!(m.unread_count().unwrap(), 1, "deleting a read one changes nothing, an unread one counts down");
        let mut answered = Notification::plain(4, "Party tonight", "2026-11-14T10:00:00.000Z");
        answered.kind = "socialite.party".into();
        answered.read = true;
        m.apply(1, &[Change { seq: 7, kind: ChangeKind::Updated { notification: answered } }], 7, false).unwrap();
        assert_eq!(m.unread_count().unwrap(), 0);
    }
}
