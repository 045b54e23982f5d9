//! Listing a user's notifications with filters and full-text search (seed 003's history search).

use herald_db::filters::{self, Filters};
use herald_db::notification_row::{from_row, AWAITS_CONFIRMATION, COLUMNS};
use herald_proto::Notification;
use rusqlite::types::ToSql;

use super::{Store, StoreError};

/// What to list; every field narrows the result. Empty: everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Only unread (true) or only read (false).
    pub unread: Option<bool>,
    /// Exact type, e.g. `social.reply`.
    pub kind: Option<String>,
    /// The part of the type before the first dot, e.g. `social`.
    pub module: Option<String>,
    pub tag: Option<String>,
    pub sub_tag: Option<String>,
    /// Created at or after / before, RFC 3339 UTC as the store writes it.
    pub from: Option<String>,
    pub to: Option<String>,
    /// Words that must all appear in subject or body (any order, prefix matching on the last).
    pub text: Option<String>,
    /// Only confirm-type notifications still waiting for an answer (true), or only the others.
    pub awaiting: Option<bool>,
}

impl Store {
    /// A page of `user_id`'s notifications matching `filter`, newest first, below id `before`.
    /// Returns the page and whether more follow.
    pub async fn search(
        &self,
        user_id: i64,
        before: Option<i64>,
        limit: u32,
        filter: ListFilter,
    ) -> Result<(Vec<Notification>, bool), StoreError> {
        // Refused here, before any work: too long, too many words, a control character.
        let words = filter.text.as_deref().map(|text| super::words::query(user_id, text)).transpose()?.flatten();
        if filter.text.is_some() && words.is_none() {
            // Only punctuation or symbols: no word to find, so nothing matches.
            return Ok((Vec::new(), false));
        }
        // Only a text search can take long (a user's common word over their whole history).
        let time_limit = words.is_some().then_some(super::readers::SEARCH_TIME_LIMIT);
        self.read(time_limit, move |conn| {
            let (sql, args) = search_sql(user_id, before, limit, filter, words);
            let mut stmt = conn.prepare_cached(&sql)?;
            let params: Vec<&dyn ToSql> = args.iter().map(AsRef::as_ref).collect();
            let mut items = stmt.query_map(params.as_slice(), from_row)?.collect::<Result<Vec<_>, _>>()?;
            let more = items.len() > limit as usize;
            items.truncate(limit as usize);
            Ok((items, more))
        })
        .await
    }
}

/// The SQL and arguments of a [`Store::search`]: every filter narrows an indexed walk of the
/// user's notifications (a test checks the plans). Words are matched in the user's own part of
/// the index only: `words` is the FTS query [`super::words::query`] made of the filter's text.
fn search_sql(
    user_id: i64,
    before: Option<i64>,
    limit: u32,
    filter: ListFilter,
    words: Option<String>,
) -> (String, Vec<Box<dyn ToSql>>) {
    // An expired notification is gone for the user even before the sweeper deletes it.
    let mut sql = format!(
        "SELECT {COLUMNS} FROM notifications WHERE user_id = ?1 AND id < ?2
             AND (expires_at IS NULL OR expires_at > ?3)"
    );
    let mut args: Vec<Box<dyn ToSql>> =
        vec![Box::new(user_id), Box::new(before.unwrap_or(i64::MAX)), Box::new(super::now_rfc3339())];
    if let Some(awaiting) = filter.awaiting {
        let clause = if awaiting { " AND {AWAITS}" } else { " AND NOT {AWAITS}" };
        sql.push_str(&clause.replace("{AWAITS}", AWAITS_CONFIRMATION));
    }
    let filters = Filters {
        unread: filter.unread,
        kind: filter.kind.as_deref(),
        module: filter.module.as_deref(),
        tag: filter.tag.as_deref(),
        sub_tag: filter.sub_tag.as_deref(),
        from: filter.from.as_deref(),
        to: filter.to.as_deref(),
        text: None,
        module_is_common: false,
    };
    filters::append(&filters, &mut sql, &mut args);
    if let Some(words) = words {
        args.push(Box::new(words));
        sql.push_str(&format!(
            " AND id IN (SELECT rowid FROM notification_words WHERE notification_words MATCH ?{})",
            args.len()
        ));
    }
    args.push(Box::new(limit + 1));
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ?{}", args.len()));
    (sql, args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewNotification;

    #[test]
    fn every_listing_walks_an_index_never_the_whole_table() {
        let conn = herald_db::open_in_memory(crate::store::MIGRATIONS).unwrap();
        let filters = [
            ListFilter::default(),
            ListFilter { unread: Some(true), ..ListFilter::default() },
            ListFilter { kind: Some("social.reply".into()), ..ListFilter::default() },
            ListFilter { module: Some("social".into()), ..ListFilter::default() },
            ListFilter { tag: Some("po-42".into()), ..ListFilter::default() },
            ListFilter { sub_tag: Some("approval".into()), ..ListFilter::default() },
            ListFilter { from: Some("2026-01-01T00:00:00.000Z".into()), ..ListFilter::default() },
            ListFilter { text: Some("budget".into()), ..ListFilter::default() },
            ListFilter { awaiting: Some(true), ..ListFilter::default() },
            ListFilter { awaiting: Some(false), ..ListFilter::default() },
        ];
        for filter in filters {
            let words = filter.text.as_deref().and_then(|text| crate::store::words::query(1, text).unwrap());
            let (sql, args) = search_sql(1, None, 50, filter.clone(), words);
            let params: Vec<&dyn ToSql> = args.iter().map(AsRef::as_ref).collect();
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let plan: Vec<String> =
                stmt.query_map(params.as_slice(), |r| r.get::<_, String>(3)).unwrap().map(Result::unwrap).collect();
            assert!(
                // The full-text index is a virtual table: its "SCAN … VIRTUAL TABLE INDEX" is the MATCH lookup.
                plan.iter().all(|step| !step.starts_with("SCAN notifications") || step.contains("VIRTUAL TABLE INDEX")),
                "{filter:?} scans the table: {plan:?}"
            );
            assert!(plan.iter().any(|step| step.contains("USING")), "{filter:?}: {plan:?}");
        }
    }

    /// SQLite's own count of the steps a search took, for `user_id` on `conn`.
    fn search_steps(conn: &rusqlite::Connection, user_id: i64, text: &str) -> (usize, i32) {
        let filter = ListFilter { text: Some(text.into()), ..ListFilter::default() };
        let words = crate::store::words::query(user_id, text).unwrap();
        let (sql, args) = search_sql(user_id, None, 50, filter, words);
        let params: Vec<&dyn ToSql> = args.iter().map(AsRef::as_ref).collect();
        let mut stmt = conn.prepare(&sql).unwrap();
        let found = stmt.query_map(params.as_slice(), |_| Ok(())).unwrap().count();
        (found, stmt.get_status(rusqlite::StatementStatus::VmStep))
    }

    #[test]
    fn a_search_costs_the_same_however_many_of_other_users_rows_match() {
        let conn = herald_db::open_in_memory(crate::store::MIGRATIONS).unwrap();
        conn.execute_batch("INSERT INTO users (id, name, created_at) VALUES (1, 'searcher', ''), (2, 'other', '');")
            .unwrap();
        let deliver = |user: i64, subject: &str| {
            crate::store::notifications::insert_for_each(&conn, &[user], &NewNotification::new(subject)).unwrap();
        };
        deliver(1, "zebra crossing");
        let alone = search_steps(&conn, 1, "zebra");
        let misspelt = search_steps(&conn, 1, "zebar");
        for i in 0..3_000 {
            deliver(2, &format!("zebra {i}"));
        }
        let crowded = search_steps(&conn, 1, "zebra");
        assert_eq!(alone.0, 1, "the searcher's own row is found");
        // Within a few steps (the planner's own bookkeeping), where matching every user's rows
        // first took a step for each of the 3,000.
        let near = |a: i32, b: i32| (a - b).abs() <= 4;
        assert_eq!(crowded.0, 1);
        assert!(
            near(crowded.1, alone.1),
            "3,000 matching rows of another user cost {} steps, not {}",
            crowded.1,
            alone.1
        );
        let misspelt_now = search_steps(&conn, 1, "zebar").1;
        assert!(near(misspelt_now, misspelt.1), "a misspelling costs the same: {misspelt_now} vs {}", misspelt.1);
        let (found, steps) = search_steps(&conn, 2, "zebra");
        assert_eq!(found, 51, "the other user finds theirs (a page and one more)");
        assert!(steps > 1_000, "their search reads their 3,000 rows ({steps} steps): the count is a real measure");
        assert_eq!(search_steps(&conn, 1, "zeb").0, 1, "a prefix reads only the searcher's terms too");
    }

    #[tokio::test]
    async fn filters_narrow_and_search_finds_words_in_subject_or_body() {
        let store = Store::open_in_memory().unwrap();
        let (ann, _) = store.add_user("ann").await.unwrap();
        let (bob, _) = store.add_user("bob").await.unwrap();
        let send = |kind: &str, subject: &str, body: &str, tag: Option<&str>| NewNotification {
            kind: kind.into(),
            body: body.into(),
            tag: tag.map(String::from),
            ..NewNotification::new(subject)
        };
        store.deliver(vec![ann.id], send("social.reply", "Ann replied", "Looks great", None)).await.unwrap();
        store.deliver(vec![ann.id], send("social", "Weekly digest", "", None)).await.unwrap();
        let po = store
            .deliver(vec![ann.id], send("purchase.approval", "PO-42", "Approve the purchase order", Some("po-42")))
            .await
            .unwrap();
        store.deliver(vec![ann.id], send("socialist.thing", "Not social", "", None)).await.unwrap();
        store.deliver(vec![bob.id], send("purchase.approval", "Bob's purchase", "purchase order", None)).await.unwrap();
        store.mark_read(ann.id, vec![po[0].id], true).await.unwrap();

        let subjects = |filter: ListFilter| {
            let store = store.clone();
            async move {
                store
                    .search(ann.id, None, 50, filter)
                    .await
                    .unwrap()
                    .0
                    .into_iter()
                    .map(|n| n.subject)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            subjects(ListFilter { module: Some("social".into()), ..Default::default() }).await,
            ["Weekly digest", "Ann replied"]
        );
        assert_eq!(
            subjects(ListFilter { kind: Some("purchase.approval".into()), ..Default::default() }).await,
            ["PO-42"]
        );
        assert_eq!(subjects(ListFilter { unread: Some(false), ..Default::default() }).await, ["PO-42"]);
        assert_eq!(subjects(ListFilter { tag: Some("po-42".into()), ..Default::default() }).await, ["PO-42"]);
        assert_eq!(
            subjects(ListFilter { text: Some("purchase ord".into()), ..Default::default() }).await,
            ["PO-42"],
            "only ann's"
        );
        assert_eq!(subjects(ListFilter { text: Some("great".into()), ..Default::default() }).await, ["Ann replied"]);
        assert!(subjects(ListFilter { text: Some("\"unbalanced".into()), ..Default::default() }).await.is_empty());
        assert!(subjects(ListFilter { text: Some("?!".into()), ..Default::default() }).await.is_empty(), "no word");
        store.deliver(vec![ann.id], send("social", "Ⓐbc circled", "", None)).await.unwrap();
        assert_eq!(
            subjects(ListFilter { text: Some("ⓐbc".into()), ..Default::default() }).await,
            ["Ⓐbc circled"],
            "a word the index's tokenizer would have split is kept whole"
        );
        let later = ListFilter { from: Some("2999-01-01T00:00:00Z".into()), ..Default::default() };
        assert!(subjects(later).await.is_empty());
    }
}
