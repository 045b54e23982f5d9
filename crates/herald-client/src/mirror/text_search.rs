//! Full-text search, newest first, without reading every match.
//!
//! Asked for "every notification containing `reference`, newest 50", SQLite's general plan
//! collects every match, looks each one up and sorts them by time: at 1,000,000 rows with a word
//! in every row that took 980 ms (`herald-bench mirror`). FTS5 can instead hand out one account's
//! matches newest first (its rowid is the mirror id, and a hub's ids rise with time), lazily, so
//! the page is there after reading about 50 of them.
//!
//! The walk reads the search index's parts (see [`search_parts`]) newest first, from the part the
//! page starts in, and stops at the first part that completes the page.
//!
//! A walk loses when the other filters keep few of the matches (unread ones of a common word
//! in a mostly read inbox): it would read most of the matches to find 50. So a search's walk
//! reads at most [`WALK_BUDGET`] matches; if that was not enough to fill the page, or to see every
//! match, the general plan answers instead.

use herald_db::filters::{self, Filters};
use herald_db::notification_row::{from_row, COLUMNS};
use herald_proto::Notification;
use rusqlite::types::ToSql;
use rusqlite::OptionalExtension;

use super::ids::{self, AccountId};
use super::search::{Before, Query};
use super::search_parts::{self, Part};
use super::{Mirror, MirrorError};

/// Matches read per search before the general plan is the better bet: a few milliseconds.
const WALK_BUDGET: u32 = 5_000;

/// Where one account's walk reads: its ids from `first` to `highest` (the highest a page starting
/// at the query's cursor can hold).
#[derive(Debug, Clone, Copy)]
pub(super) struct Walk {
    first: i64,
    highest: i64,
}

impl Mirror {
    /// The walk of each account the query searches; an account with nothing older than the
    /// cursor has none. A page far back starts at the cursor, rather than reading its way down.
    pub(super) fn walks(&self, query: &Query) -> Result<Vec<Walk>, MirrorError> {
        let mut walks = Vec::new();
        for account in self.searched_accounts(query.account)? {
            let (first, last) = ids::range(account);
            let highest = match &query.before {
                None => Some(last),
                Some(before) => self.highest_before(account, before)?,
            };
            walks.extend(highest.map(|highest| Walk { first, highest }));
        }
        Ok(walks)
    }

    /// The page for a query with `words` (an FTS5 query), found by walking each account's
    /// matches part by part, newest first; None if the walk could not tell (see the module
    /// documentation). `filters` are the query's other filters.
    pub(super) fn newest_matches(
        &self,
        walks: &[Walk],
        query: &Query,
        words: &str,
        filters: &Filters<'_>,
    ) -> Result<Option<Vec<Notification>>, MirrorError> {
        let limit = query.limit.max(1) as usize;
        let mut budget = WALK_BUDGET;
        let mut found = Vec::new();
        // A part that starts at or after the cursor holds nothing the page can show.
        let parts = search_parts::parts(&self.conn)?;
        for part in parts.iter().rev().filter(|p| query.before.as_ref().is_none_or(|before| p.after < *before)) {
            for walk in walks {
                match self.walk_matches(part, walk, query, words, filters, limit, &mut budget)? {
                    Some(page) => found.extend(page),
                    None => return Ok(None),
                }
            }
            // Every part not read yet holds older notifications only.
            if found.len() >= limit {
                break;
            }
        }
        // Each account's newest `limit` per part, merged into the inbox's order.
        found.sort_unstable_by(|a, b| (&b.created_at, b.id).cmp(&(&a.created_at, a.id)));
        found.truncate(limit);
        Ok(Some(found))
    }

    fn searched_accounts(&self, only: Option<AccountId>) -> Result<Vec<AccountId>, MirrorError> {
        let mut stmt = self.conn.prepare_cached("SELECT id FROM accounts ORDER BY id")?;
        let all = stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<AccountId>, _>>()?;
        Ok(all.into_iter().filter(|a| only.is_none_or(|only| only == *a)).collect())
    }

    /// Up to `limit` of the walk's matches in `part` that pass the filters, newest first; None if
    /// the search's `budget` of matches ran out before the page was full or the last match read.
    #[allow(clippy::too_many_arguments)]
    fn walk_matches(
        &self,
        part: &Part,
        walk: &Walk,
        query: &Query,
        words: &str,
        filters: &Filters<'_>,
        limit: usize,
        budget: &mut u32,
    ) -> Result<Option<Vec<Notification>>, MirrorError> {
        let mut args: Vec<Box<dyn ToSql>> = vec![
            Box::new(words.to_owned()),
            Box::new(walk.first),
            Box::new(walk.highest),
            Box::new(*budget),
            Box::new(part.id),
        ];
        // Every match comes out (the filters are in the join, not after it), so the walk can
        // count what it read; a match the filters drop comes with NULLs. A row deleted or changed
        // since it was indexed is no longer searchable in this part (its entry waits to be dropped).
        let mut keep = String::from("n.search_part = ?5");
        if let Some(before) = &query.before {
            args.push(Box::new(before.created_at.clone()));
            args.push(Box::new(before.id));
            keep.push_str(&format!(" AND (created_at, id) < (?{}, ?{})", args.len() - 1, args.len()));
        }
        filters::append(filters, &mut keep, &mut args);
        let columns: Vec<String> = COLUMNS.split(", ").map(|c| format!("n.{c}")).collect();
        let sql = format!(
            "SELECT n.id IS NOT NULL AS kept, {columns} FROM
               (SELECT rowid AS match_id FROM {fts}
                WHERE {fts} MATCH ?1 AND rowid BETWEEN ?2 AND ?3 ORDER BY rowid DESC LIMIT ?4) AS m
             LEFT JOIN notifications AS n ON n.id = m.match_id AND {keep}",
            columns = columns.join(", "),
            fts = part.table(),
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let params: Vec<&dyn ToSql> = args.iter().map(AsRef::as_ref).collect();
        let mut rows = stmt.query(params.as_slice())?;
        let (mut page, mut read) = (Vec::new(), 0u32);
        let allowed = *budget;
        while let Some(row) = rows.next()? {
            read += 1;
            if row.get::<_, bool>("kept")? {
                page.push(from_row(row)?);
                if page.len() == limit {
                    break;
                }
            }
        }
        *budget -= read;
        // Fewer than a page: complete only if the walk saw the last match.
        Ok((page.len() == limit || read < allowed).then_some(page))
    }

    /// The highest id of `account` that comes after `before` in the inbox; None if none does.
    /// An account's ids rise with its times, so those are the rows below some id: found by halving
    /// the account's id range, one primary-key lookup a step (about 40).
    fn highest_before(&self, account: AccountId, before: &Before) -> Result<Option<i64>, MirrorError> {
        let (first, last) = ids::range(account);
        if ids::account_of(before.id) == account {
            return Ok(Some(before.id - 1));
        }
        let mut first_row_from = self.conn.prepare_cached(
            "SELECT created_at, id FROM notifications WHERE id BETWEEN ?1 AND ?2 ORDER BY id LIMIT 1",
        )?;
        // Whether every row of the account from id `from` on is at or past `before`.
        let mut at_or_past = |from: i64| -> Result<bool, MirrorError> {
            let row: Option<(String, i64)> =
                first_row_from.query_row([from, last], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
            Ok(row.is_none_or(|(created_at, id)| (created_at.as_str(), id) >= (before.created_at.as_str(), before.id)))
        };
        // The lowest `from` for which that holds; every row below it comes after `before`.
        let (mut low, mut high) = (first, last + 1);
        while low < high {
            let middle = low + (high - low) / 2;
            if at_or_past(middle)? {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        Ok((low > first).then_some(low - 1))
    }
}

#[cfg(test)]
mod tests {
    use herald_proto::{Change, ChangeKind};

    use super::super::search_parts::parts;
    use super::super::search_parts::testing::{at, check_parts, created, small_mirror};
    use super::*;

    fn note(id: i64, subject: &str, read: bool) -> Change {
        let mut n = Notification::plain(id, subject, format!("2026-11-21T10:00:{:02}.{:03}Z", id / 1000, id % 1000));
        n.read = read;
        Change { seq: id, kind: ChangeKind::Created { notification: n } }
    }

    fn indexed(changes: &[Change]) -> Mirror {
        let mut m = Mirror::open_in_memory().unwrap();
        m.apply(1, changes, changes.len() as i64, true).unwrap();
        while m.index_some(10_000).unwrap() > 0 {}
        m
    }

    fn ids_of(found: &[Notification]) -> Vec<i64> {
        found.iter().map(|n| n.id).collect()
    }

    fn text(words: &str, limit: u32) -> Query {
        Query { text: Some(words.into()), limit, ..Query::default() }
    }

    #[test]
    fn a_common_word_is_answered_by_the_walk_newest_first() {
        let m = indexed(&(1..=200).map(|id| note(id, &format!("report {id}"), false)).collect::<Vec<_>>());
        let words = herald_db::fts_query("report").unwrap();
        let query = text("report", 3);
        let walked = m.newest_matches(&m.walks(&query).unwrap(), &query, &words, &Filters::default()).unwrap();
        assert_eq!(walked.as_deref().map(ids_of), Some(vec![200, 199, 198]));
        assert_eq!(ids_of(&m.search(&text("report", 3)).unwrap()), [200, 199, 198]);
    }

    #[test]
    fn a_filter_that_keeps_few_matches_falls_back_to_the_general_plan() {
        // Only the oldest match is unread, behind more read matches than the walk reads.
        let budget = i64::from(WALK_BUDGET);
        let changes: Vec<Change> = (1..=budget + 10).map(|id| note(id, "weekly report", id != 1)).collect();
        let m = indexed(&changes);
        let query = Query { unread: Some(true), ..text("report", 10) };
        let filters = Filters { unread: Some(true), ..Filters::default() };
        let words = herald_db::fts_query("report").unwrap();
        assert_eq!(
            m.newest_matches(&m.walks(&query).unwrap(), &query, &words, &filters).unwrap(),
            None,
            "the walk cannot tell"
        );
        assert_eq!(ids_of(&m.search(&query).unwrap()), [1], "the general plan finds it");
    }

    #[test]
    fn fewer_matches_than_a_page_are_all_found_by_the_walk() {
        let m = indexed(&[note(1, "alpha", false), note(2, "beta", false), note(3, "alpha beta", true)]);
        let query = Query { unread: Some(false), ..text("alpha", 10) };
        let filters = Filters { unread: Some(false), ..Filters::default() };
        let words = herald_db::fts_query("alpha").unwrap();
        assert_eq!(
            m.newest_matches(&m.walks(&query).unwrap(), &query, &words, &filters).unwrap().as_deref().map(ids_of),
            Some(vec![3])
        );
    }

    #[test]
    fn accounts_are_merged_in_time_order_and_pages_continue() {
        let mut m = Mirror::open_in_memory().unwrap();
        let work = m.upsert_account("work", "http://work/").unwrap();
        let at = |id: i64, minute: u32| Change {
            seq: id,
            kind: ChangeKind::Created {
                notification: Notification::plain(id, "status report", format!("2026-11-21T10:{minute:02}:00.000Z")),
            },
        };
        m.apply(1, &[at(1, 1), at(2, 3)], 2, true).unwrap();
        m.apply(work, &[at(1, 2), at(2, 4)], 2, true).unwrap();
        while m.index_some(100).unwrap() > 0 {}
        let minutes =
            |found: Vec<Notification>| found.iter().map(|n| n.created_at[14..16].to_owned()).collect::<Vec<_>>();
        let first = m.search(&text("report", 3)).unwrap();
        let next = super::super::search::Before::after(first.last().unwrap());
        assert_eq!(minutes(first), ["04", "03", "02"]);
        let rest = m.search(&Query { before: Some(next), ..text("report", 3) }).unwrap();
        assert_eq!(minutes(rest), ["01"]);
    }

    /// What a user would expect of a search, worked out without SQLite: every searchable row
    /// whose words include the query's (the last one as a prefix, unless a space follows it).
    fn expected(m: &Mirror, query: &Query) -> Vec<i64> {
        let words = query.text.as_deref().unwrap();
        let (finished, words): (bool, Vec<&str>) = (words.ends_with(' '), words.split_whitespace().collect());
        let mut stmt = m
            .conn
            .prepare(
                "SELECT id, subject || ' ' || body, created_at, read FROM notifications WHERE search_part IS NOT NULL",
            )
            .unwrap();
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, bool>(3)?))
        });
        let mut found: Vec<(String, i64)> = rows
            .unwrap()
            .map(Result::unwrap)
            .filter(|(_, text, _, read)| {
                let tokens: Vec<String> =
                    text.to_lowercase().split(|c: char| !c.is_alphanumeric()).map(str::to_owned).collect();
                query.unread.is_none_or(|unread| unread != *read)
                    && words.iter().enumerate().all(|(i, word)| {
                        let prefix = i + 1 == words.len() && !finished;
                        tokens.iter().any(|t| if prefix { t.starts_with(word) } else { t == word })
                    })
            })
            .map(|(id, _, created_at, _)| (created_at, id))
            .filter(|(created_at, id)| {
                query.before.as_ref().is_none_or(|b| (created_at.as_str(), *id) < (b.created_at.as_str(), b.id))
            })
            .collect();
        found.sort_unstable_by(|a, b| b.cmp(a));
        found.into_iter().take(query.limit as usize).map(|(_, id)| id).collect()
    }

    /// Both of search's plans must answer what a user expects, whatever happened: accounts
    /// interleaved in time, equal times, an account added late with an old history (rows that
    /// fall in old parts and split them), one emptied by a reset, deletes, edits, reads, batches
    /// of any size, pages followed to the end.
    #[test]
    fn every_text_query_answers_what_a_user_expects() {
        let mut m = small_mirror();
        let work = m.upsert_account("work", "http://work/").unwrap();
        let words = ["alpha", "alpine", "beta", "report", "reply", "gamma"];
        let mut seed = 7_u64;
        let mut next = move |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        // Each account's hub times, by hub id (index id - 1): they rise with the ids, as a hub's do.
        let mut accounts = vec![(1, Vec::<i64>::new()), (work, Vec::new())];
        let mut seq = 0_i64;
        let (mut walked, mut not_walked) = (0, 0);
        for round in 0..60 {
            if round == 30 {
                // A hub added late brings its history: times from the start.
                accounts.push((m.upsert_account("archive", "http://archive/").unwrap(), Vec::new()));
            }
            if round == 45 {
                m.reset(work, crate::mirror::Reset::HubRestored).unwrap();
                accounts[1].1.clear();
            }
            let slot = next(accounts.len() as u64) as usize;
            let (account, seconds) = &mut accounts[slot];
            let account = *account;
            let start = if slot == 2 { (round - 30) / 3 } else { round * 2 };
            let mut changes = Vec::new();
            for _ in 0..next(6) {
                let second = (start + next(2) as i64).max(seconds.last().copied().unwrap_or(0));
                seconds.push(second);
                let id = seconds.len() as i64;
                seq += 1;
                let subject = format!("{} {}", words[next(6) as usize], words[next(6) as usize]);
                let mut change = created(id, &subject, second);
                if let ChangeKind::Created { notification } = &mut change.kind {
                    notification.read = next(3) == 0;
                }
                change.seq = seq;
                changes.push(change);
            }
            if seconds.len() > 2 && next(3) == 0 {
                seq += 1;
                let id = 1 + next(seconds.len() as u64) as i64;
                let second = seconds[id as usize - 1];
                let kind = match next(3) {
                    0 => ChangeKind::Deleted { ids: vec![id] },
                    1 => ChangeKind::ReadChanged { ids: vec![id], read: true },
                    _ => ChangeKind::Updated {
                        notification: Notification::plain(id, words[next(6) as usize], at(second)),
                    },
                };
                changes.push(Change { seq, kind });
            }
            m.apply(account, &changes, seq, false).unwrap();
            if next(2) == 0 {
                m.index_some(1 + next(9) as u32).unwrap();
            }
            check_parts(&m);
            for (words, limit, unread) in
                [("al", 3, None), ("alpha", 4, None), ("re", 2, Some(true)), ("beta gam", 5, None), ("reply ", 3, None)]
            {
                let mut query = Query { unread, ..text(words, limit) };
                loop {
                    let expected = expected(&m, &query);
                    let filters = m.filters(&query).unwrap();
                    assert_eq!(
                        ids_of(&m.search_in_general(&query, &filters).unwrap()),
                        expected,
                        "round {round}: {query:?}"
                    );
                    let fts = herald_db::fts_query(words).unwrap();
                    let others = Filters { text: None, ..filters };
                    match m.newest_matches(&m.walks(&query).unwrap(), &query, &fts, &others).unwrap() {
                        Some(page) => (walked += 1, assert_eq!(ids_of(&page), expected, "round {round}: {query:?}")),
                        None => (not_walked += 1, ()),
                    };
                    assert_eq!(ids_of(&m.search(&query).unwrap()), expected, "round {round}: {query:?}");
                    let Some(last) = expected.last().and_then(|&id| m.get(id).unwrap()) else { break };
                    query.before = Some(Before::after(&last));
                }
            }
        }
        assert!(parts(&m.conn).unwrap().len() > 5, "the history was cut into parts");
        assert!(walked > 100, "the walk answered {walked} pages ({not_walked} went to the general plan)");
    }
}
